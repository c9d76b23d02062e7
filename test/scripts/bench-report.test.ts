import t from 'tap';

import {
  inventoryCost,
  newTargetResult,
  summarize,
  type TargetResult,
} from '../../scripts/bench/report.js';

function result(id: string, runPktsPerSec: number[]): TargetResult {
  return { ...newTargetResult(id, id, ''), runPktsPerSec };
}

t.test('inventory cost is the median of per-round ratios', async (t) => {
  // Round 2 ran on a busy machine: every rate fell, the ratio held.
  const results = [
    result('flows', [100, 50, 100]),
    result('sensor', [80, 40, 80]),
    result('inventory', [60, 30, 64]),
  ];
  summarize(results);
  const cost = inventoryCost(results);
  t.equal(cost.ofDecodeFlows, 0.6);
  t.equal(cost.ofSensorPipeline, 0.75);
});

t.test('no ratio without matching rounds', async (t) => {
  const failed = result('sensor', []);
  failed.status = 'failed';
  const results = [
    result('flows', [100, 90]),
    failed,
    result('inventory', [60]),
  ];
  const cost = inventoryCost(results);
  t.equal(cost.ofDecodeFlows, null, 'a run of one failed');
  t.equal(cost.ofSensorPipeline, null, 'no sensor row');
});
