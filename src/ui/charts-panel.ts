// Charts with axes and values on hover (uPlot): deliveries per second, mailbox depths, GPU batch
// sizes and latencies, over the session (one point per snapshot, time in seconds on the x axis).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartSample } from '../dashboard/wire.js';
import { byId } from './dom.js';

const KEPT = 2400;
const AXIS = { stroke: '#8893a0', grid: { stroke: '#2a323c', width: 1 }, ticks: { stroke: '#2a323c' } };

interface Chart {
  id: string;
  series: Array<{ label: string; stroke: string; value: (sample: ChartSample) => number | null }>;
  unit: string;
  plot?: uPlot;
}

const CHARTS: Chart[] = [
  {
    id: 'chart-rate',
    unit: 'deliveries/s',
    series: [{ label: 'deliveries/s', stroke: '#58a6ff', value: (sample) => sample.rate }],
  },
  {
    id: 'chart-mailboxes',
    unit: 'envelopes',
    series: [
      { label: 'waiting, all mailboxes', stroke: '#d29922', value: (sample) => sample.mailboxes },
      { label: 'fullest mailbox', stroke: '#f85149', value: (sample) => sample.deepest },
    ],
  },
  {
    id: 'chart-gpu-batch',
    unit: 'rows per run',
    series: [{ label: 'GPU batch (mean rows)', stroke: '#3fb950', value: (sample) => sample.gpuBatch }],
  },
  {
    id: 'chart-gpu-latency',
    unit: 'ms',
    series: [{ label: 'GPU latency (mean ms)', stroke: '#bc8cff', value: (sample) => sample.gpuLatencyMs }],
  },
];

export class ChartsPanel {
  #samples: ChartSample[] = [];
  #visible = false;

  reset(): void {
    this.#samples = [];
  }

  add(samples: readonly ChartSample[]): void {
    if (samples.length === 0) return;
    const last = this.#samples.at(-1)?.at ?? -1;
    this.#samples.push(...samples.filter((sample) => sample.at > last));
    if (this.#samples.length > KEPT) this.#samples = this.#samples.slice(-KEPT);
  }

  /** Charts are drawn only while their tab shows (uPlot measures its container). */
  show(visible: boolean): void {
    this.#visible = visible;
    if (visible) this.draw();
  }

  draw(): void {
    if (!this.#visible) return;
    const xs = this.#samples.map((sample) => sample.at);
    for (const chart of CHARTS) {
      const element = byId(chart.id);
      const width = Math.max(240, element.clientWidth);
      const data: uPlot.AlignedData = [xs, ...chart.series.map((series) => this.#samples.map(series.value))];
      if (!chart.plot) {
        chart.plot = new uPlot(
          {
            width,
            height: 130,
            scales: { x: { time: false } },
            legend: { live: true },
            series: [
              { label: 'seconds', value: (_, value) => (value == null ? '' : `${value.toFixed(1)} s`) },
              ...chart.series.map((series) => ({
                label: series.label,
                stroke: series.stroke,
                width: 1.5,
                spanGaps: false,
                value: (_: uPlot, value: number | null) =>
                  value == null ? '–' : value.toFixed(value < 10 ? 2 : 0),
              })),
            ],
            axes: [
              { ...AXIS, label: 'seconds', size: 36 },
              { ...AXIS, label: chart.unit, size: 56 },
            ],
          },
          data,
          element,
        );
      } else {
        if (chart.plot.width !== width) chart.plot.setSize({ width, height: 130 });
        chart.plot.setData(data);
      }
    }
    byId('charts').dataset.points = String(xs.length);
  }
}
