export { type HeatmapOptions, heatmapSvg } from './heatmap.js';
export { type GridTile, type ImageGridOptions, imageGrid, type RGBPixels } from './image-grid.js';
export {
  type ChartMarker,
  type LineChartOptions,
  type LineSeries,
  lineChartSvg,
} from './line-chart.js';
export { svgToPng, writePng } from './render.js';
export { PALETTE } from './svg.js';
