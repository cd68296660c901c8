# myquant_add_library(name SOURCES... [DEPENDS targets...] [LINK_LIBS libs...])
#
# A library of ours: built against libMLIR.so only (never the static MLIR
# archives, see ../shared notes), installed and exported as MyQuant::<name>.
function(myquant_add_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LINK_LIBS" ${ARGN})
  add_library(${name} ${ARG_UNPARSED_ARGUMENTS})
  add_library(MyQuant::${name} ALIAS ${name})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LINK_LIBS})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  set_property(GLOBAL APPEND PROPERTY MYQUANT_EXPORTED_LIBS ${name})
  install(TARGETS ${name} EXPORT MyQuantTargets
    ARCHIVE DESTINATION lib
    LIBRARY DESTINATION lib)
endfunction()
