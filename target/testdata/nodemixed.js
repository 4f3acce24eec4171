// Times a mixed on-device workload with Adobe's Node.js SDK for the Go
// benchmark BenchmarkOnDeviceMixedVsNode:
//
//	node nodemixed.js ARTIFACT.json REQUESTS.json CLIENT ITERATIONS
//
// REQUESTS.json is a JSON array of Delivery requests; iteration i decides
// requests[i % length] with getOffers, awaited one at a time, telemetry on.
// The notifications that execute decisions cause (and the telemetry they
// carry) are built and handed to fetch, which answers an empty 200 in
// process: their work is counted, a network is not. Prints the mean
// wall-clock and CPU (process.cpuUsage: user and system) nanoseconds per
// getOffers after a warm-up of as many calls, and the number of
// notification requests sent during the timed part, as
// "WALL_NS CPU_NS COUNT".
"use strict";
const fs = require("fs");

const [artifactFile, requestsFile, clientCode, iterations] = process.argv.slice(2);
const artifact = JSON.parse(fs.readFileSync(artifactFile, "utf8"));
const requests = JSON.parse(fs.readFileSync(requestsFile, "utf8"));
const n = parseInt(iterations, 10);

let sent = 0;
let lastSent = 0n;
global.fetch = async (url, options = {}) => {
  if (options.body !== undefined) {
    sent += 1;
    lastSent = process.hrtime.bigint();
  }
  return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
};
// settle waits until no notification has been sent for 50 ms.
async function settle() {
  let seen = -1;
  while (seen !== sent) {
    seen = sent;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const TargetClient = require("@adobe/target-nodejs-sdk");

const client = TargetClient.create({
  client: clientCode,
  organizationId: "someOrgId",
  decisioningMethod: "on-device",
  artifactPayload: artifact,
  pollingInterval: 0,
  telemetryEnabled: true,
  serverDomain: "127.0.0.1:9",
  secure: false,
  cdnBasePath: "127.0.0.1:9",
  logger: { debug() {}, error() {} },
  events: {
    clientReady: async () => {
      // As many calls again as are timed, so that V8 has optimized the
      // SDK's code before timing starts, as in a server that has been up.
      const warm = Math.max(200, n);
      for (let i = 0; i < warm; i += 1) {
        await client.getOffers({ request: requests[i % requests.length], sessionId: "bench" });
      }
      await settle();
      sent = 0;
      const cpuStart = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i += 1) {
        await client.getOffers({ request: requests[i % requests.length], sessionId: "bench" });
      }
      const loopEnd = process.hrtime.bigint();
      // The SDK sends notifications from timers: the timed part ends with
      // the last one sent, not with the last getOffers.
      await settle();
      const end = lastSent > loopEnd ? lastSent : loopEnd;
      const ns = Number(end - start) / n;
      const cpu = process.cpuUsage(cpuStart); // microseconds; includes the 50 ms settling, which is idle
      const cpuNs = ((cpu.user + cpu.system) * 1000) / n;
      process.stdout.write(`${ns} ${cpuNs} ${sent}`, () => process.exit(0));
    }
  }
});
