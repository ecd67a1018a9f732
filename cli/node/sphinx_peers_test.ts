import assert from "node:assert/strict";
import { PeerFilter } from "./sphinx_peers.ts";

Deno.test("only the topology's node addresses may connect; an unknown one refreshes at most once per period", async () => {
  let topology = ["10.0.0.1:8471", "[2001:db8::7]:8471", "mix.example:8471"];
  let refreshes = 0;
  const filter = new PeerFilter({
    addresses: () => {
      refreshes++;
      return Promise.resolve(topology);
    },
    resolve: (host) => Promise.resolve(host === "mix.example" ? ["192.0.2.5"] : []),
  }, 60_000);
  assert.equal(await filter.allowed("10.0.0.1"), true);
  assert.equal(await filter.allowed("::ffff:10.0.0.1"), true); // IPv4 mapped into IPv6
  assert.equal(await filter.allowed("2001:db8::7"), true);
  assert.equal(await filter.allowed("192.0.2.5"), true); // a node published by name
  assert.equal(await filter.allowed("10.0.0.2"), false); // not a node
  assert.equal(await filter.allowed("127.0.0.1"), false);
  assert.equal(refreshes, 1, "an outsider must not make the node refetch the topology");
  topology = [...topology, "10.0.0.9:8471"]; // joins; seen at the next refresh
  assert.equal(await filter.allowed("10.0.0.9"), false);

  const quick = new PeerFilter({
    addresses: () => Promise.resolve(topology),
    resolve: () => Promise.resolve([]),
  }, 0);
  assert.equal(await quick.allowed("10.0.0.9"), true); // a node that just joined
});

Deno.test("a topology that cannot be fetched lets nobody in (no crash)", async () => {
  const filter = new PeerFilter({
    addresses: () => Promise.reject(new Error("directory down")),
    resolve: () => Promise.resolve([]),
  });
  assert.equal(await filter.allowed("10.0.0.1"), false);
});
