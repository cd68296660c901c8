//===- MyQuantTypeUtils.cpp - helpers over quant element types ------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

using namespace mlir;

namespace myquant {

quant::QuantizedType getQuantElementType(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  if (isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType>(
          type))
    return cast<quant::QuantizedType>(type);
  return {};
}

std::optional<QuantParams> getQuantParams(Type type) {
  quant::QuantizedType qtype = getQuantElementType(type);
  if (!qtype)
    return std::nullopt;
  QuantParams params;
  params.storageWidth = qtype.getStorageTypeIntegralWidth();
  params.isSigned = qtype.isSigned();
  params.storageMin = qtype.getStorageTypeMin();
  params.storageMax = qtype.getStorageTypeMax();
  params.expressedType = qtype.getExpressedType();
  if (auto perTensor = dyn_cast<quant::UniformQuantizedType>(qtype)) {
    params.scales.push_back(perTensor.getScale());
    params.zeroPoints.push_back(perTensor.getZeroPoint());
    return params;
  }
  auto perAxis = cast<quant::UniformQuantizedPerAxisType>(qtype);
  params.scales.assign(perAxis.getScales().begin(), perAxis.getScales().end());
  params.zeroPoints.assign(perAxis.getZeroPoints().begin(),
                           perAxis.getZeroPoints().end());
  params.axis = perAxis.getQuantizedDimension();
  return params;
}

} // namespace myquant
