export {
  decodePoints,
  PointBlock,
  type PointBlockOptions,
} from './point-block.js';
export {
  type BatchGeometry,
  type GeometricBatchTransform,
  type ItemGeometry,
  invertMat3,
  itemGeometryOf,
  pointsThroughItem,
  replayBatchGeometry,
  scalePointsThrough,
  withItemGeometry,
} from './point-geometry.js';
