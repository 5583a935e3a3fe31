import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heatmapSvg } from '../../src/plot/heatmap.js';
import { lineChartSvg } from '../../src/plot/line-chart.js';
import { axisLabelsSvg } from '../../src/plot/svg.js';

const yTitle = (svg: string) => svg.match(/<text class="y-label"[^>]*>([^<]*)<\/text>/);

describe('axisLabelsSvg: the axis titles every chart draws', () => {
  it('centres the x title under the plot and turns the y title a quarter, escaping both', () => {
    const [x, y] = axisLabelsSvg(
      { xLabel: 'lr < 1', yLabel: 'loss & co' },
      { centreX: 100.123, centreY: 50, height: 300, yLabelX: 16 },
    );
    assert.equal(
      x,
      '<text class="x-label" x="100.12" y="290" font-size="14" text-anchor="middle" fill="#222">lr &lt; 1</text>',
    );
    assert.equal(
      y,
      '<text class="y-label" x="16" y="50" font-size="14" text-anchor="middle" fill="#222" transform="rotate(-90 16 50)">loss &amp; co</text>',
    );
    assert.deepEqual(
      axisLabelsSvg(
        { xLabel: '', yLabel: undefined },
        { centreX: 1, centreY: 1, height: 1, yLabelX: 1 },
      ),
      [],
    );
  });

  it('draws the same titles in line charts and heatmaps', () => {
    const line = lineChartSvg([{ name: 'a', x: [0, 1], y: [1, 2] }], { xLabel: 'X', yLabel: 'Y' });
    const heat = heatmapSvg(
      [
        [1, 2],
        [3, 4],
      ],
      { rowLabels: ['a', 'b'], colLabels: ['c', 'd'], xLabel: 'X', yLabel: 'Y' },
    );
    for (const svg of [line, heat]) {
      assert.equal(yTitle(svg)?.[1], 'Y');
      assert.match(
        svg,
        /<text class="x-label" x="[\d.]+" y="[\d.]+" font-size="14" text-anchor="middle" fill="#222">X<\/text>/,
      );
      assert.match(
        svg,
        /<text class="y-label" x="(\d+)" y="([\d.]+)" font-size="14" text-anchor="middle" fill="#222" transform="rotate\(-90 \1 \2\)">Y<\/text>/,
      );
    }
  });
});
