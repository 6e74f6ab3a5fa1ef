/**
 * The fault matrix (issue 14, DESIGN §7 "faults"): each fault injected against the real
 * servers, one row each, and one table printed at the end. Every row asserts that no
 * committed backup is lost, that nothing partial is listed as a backup, and that the status
 * (exit code, Backup phase and message) says what happened. Rows run one after another in
 * this file: they share a scratch primary and replica, toxiproxy and a bucket.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { registerClockRows } from './clock-rows.js';
import { printFaultTable } from './fault-table.js';
import { type FaultWorld, startFaultWorld } from './fault-world.js';
import { registerKillRows } from './kill-rows.js';
import { registerKubeRows } from './kube-rows.js';
import { registerS3Rows } from './s3-rows.js';
import { registerFailoverRows, registerReplicaRows, registerVolumeRows } from './server-rows.js';

describe('fault matrix', () => {
  let world: FaultWorld | undefined;
  const current = (): FaultWorld => {
    if (world === undefined) throw new Error('the fault world did not start');
    return world;
  };

  beforeAll(async () => {
    world = await startFaultWorld();
  });

  afterAll(async () => {
    printFaultTable();
    await world?.stop();
  });

  describe('object store', () => registerS3Rows(current));
  describe('runner killed', () => registerKillRows(current));
  describe('local volume', () => registerVolumeRows(current));
  describe('replica', () => registerReplicaRows(current));
  describe('clocks', () => registerClockRows(current));
  describe('API server', () => registerKubeRows(current));
  // Last: it stops the scratch primary and promotes its replica.
  describe('failover', () => registerFailoverRows(current));
});
