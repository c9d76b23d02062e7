import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { readCaptureFile } from '../../src/capture/capture-file.js';
import { PacketPipeline } from '../../src/pipeline.js';

const SPEC = fileURLToPath(
  new URL('../fixtures/public/community-id-spec/', import.meta.url),
);

interface Vector {
  communityid: string;
}

// The spec's default-seed baseline covers every packet of its pcaps; each
// flow the table builds from those pcaps must carry one of those IDs.
const baseline = new Set(
  (
    JSON.parse(
      readFileSync(join(SPEC, 'baseline', 'baseline_deflt.json'), 'utf8'),
    ) as Vector[]
  ).map((vector) => vector.communityid),
);

for (const name of readdirSync(join(SPEC, 'pcaps')).sort()) {
  t.test(`flows of ${name} carry the spec's Community IDs`, async (t) => {
    const ids: string[] = [];
    const pipeline = new PacketPipeline({
      onFlowStart: (table, flowId) => ids.push(table.communityIdOf(flowId)),
    });
    readCaptureFile(join(SPEC, 'pcaps', name), pipeline);

    const unknown = ids.filter((id) => !baseline.has(id));
    t.same(unknown, [], `${ids.length} flow IDs all in the baseline`);
    if (name !== 'arp.pcap') t.ok(ids.length > 0, 'the capture has IP flows');
  });
}
