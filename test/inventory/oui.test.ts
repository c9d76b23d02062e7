import t from 'tap';

import {
  isGroupAddress,
  isLocallyAdministered,
  lookupVendor,
  loadVendorRegistry,
} from '../../src/inventory/oui.js';

const mac = (text: string) =>
  Uint8Array.from(text.split(':').map((part) => parseInt(part, 16)));

t.test('MA-L, MA-M and MA-S blocks, longest prefix first', async (t) => {
  t.ok(loadVendorRegistry() > 50_000, 'the registry is loaded');
  t.match(lookupVendor(mac('00:09:5c:12:34:56'), 0), /^Philips Medical/);
  // 10:06:48 is an MA-L block of the registration authority itself,
  // subdivided into MA-M blocks that name the real owner.
  t.equal(
    lookupVendor(mac('10:06:48:01:02:03'), 0),
    'FLEXTRONICS TECHNOLOGIES (INDIA) PVT LTD',
  );
});

t.test('no vendor for randomized, group or all-zero addresses', async (t) => {
  t.equal(lookupVendor(mac('da:a1:19:53:00:01'), 0), undefined);
  t.ok(isLocallyAdministered(mac('da:a1:19:53:00:01'), 0));
  t.equal(lookupVendor(mac('01:00:5e:00:00:fb'), 0), undefined);
  t.ok(isGroupAddress(mac('01:00:5e:00:00:fb'), 0));
  t.equal(lookupVendor(mac('00:00:00:00:00:00'), 0), undefined);
});
