// Times on-device decisions of Adobe's Node.js SDK for the Go benchmark:
// node nodebench.js ARTIFACT.json REQUEST.json CLIENT ITERATIONS.
// Prints the mean nanoseconds per getOffers after a warm-up.
"use strict";
const fs = require("fs");
const TargetClient = require("@adobe/target-nodejs-sdk");

const [artifactFile, requestFile, clientCode, iterations] = process.argv.slice(2);
const artifact = JSON.parse(fs.readFileSync(artifactFile, "utf8"));
const request = JSON.parse(fs.readFileSync(requestFile, "utf8"));
const n = parseInt(iterations, 10);

const client = TargetClient.create({
  client: clientCode,
  organizationId: "someOrgId",
  decisioningMethod: "on-device",
  artifactPayload: artifact,
  pollingInterval: 0,
  telemetryEnabled: false,
  serverDomain: "127.0.0.1:9",
  secure: false,
  cdnBasePath: "127.0.0.1:9",
  logger: { debug() {}, error() {} },
  events: {
    clientReady: async () => {
      for (let i = 0; i < Math.max(200, n / 10); i += 1) {
        await client.getOffers({ request, sessionId: "bench" });
      }
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i += 1) {
        await client.getOffers({ request, sessionId: "bench" });
      }
      const ns = Number(process.hrtime.bigint() - start) / n;
      process.stdout.write(String(ns), () => process.exit(0));
    }
  }
});
