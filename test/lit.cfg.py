# -*- Python -*-

import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MYQUANT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.myquant_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(
    ("%myquant_plugin", os.path.join(config.myquant_lib_dir, "libMyQuantPlugin.so"))
)
config.substitutions.append(("%myquant_src", config.myquant_src_root))
config.substitutions.append(("%myquant_obj", config.myquant_obj_root))
config.substitutions.append(("%mlir_dir", config.mlir_dir))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%cxx", config.cxx_compiler))
# clang-tidy is optional: without it test/Format/clang-tidy.test is
# UNSUPPORTED (CMake leaves CLANG_TIDY-NOTFOUND).
if config.clang_tidy and not config.clang_tidy.endswith("-NOTFOUND"):
    config.available_features.add("clang-tidy")
    config.substitutions.append(("%clang_tidy", config.clang_tidy))
# qemu-user is optional: it runs tests on an emulated older CPU (Haswell:
# AVX2, no AVX-512, no AVX-VNNI); without it they are UNSUPPORTED.
if shutil.which("qemu-x86_64"):
    config.available_features.add("qemu-x86_64")
# Runtime support libraries for mlir-runner execution tests.
_llvm_lib_dir = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
config.substitutions.append(("%llvm_lib_dir", _llvm_lib_dir))
config.substitutions.append(
    (
        "%mlir_runner_libs",
        ",".join(
            os.path.join(_llvm_lib_dir, lib)
            for lib in ["libmlir_c_runner_utils.so", "libmlir_runner_utils.so"]
        ),
    )
)

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# `not`, `count` and friends come from the LLVM tools directory.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.myquant_tools_dir, config.llvm_tools_dir]
tools = [
    "myquant-opt",
    "myquant-run",
    "myquant-compile",
    ToolSubst("mlir-opt", os.path.join(config.llvm_tools_dir, "mlir-opt")),
    ToolSubst("mlir-runner", os.path.join(config.llvm_tools_dir, "mlir-runner")),
    ToolSubst("llc", os.path.join(config.llvm_tools_dir, "llc")),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
