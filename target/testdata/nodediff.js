// Decides requests with Adobe's Node.js SDK on-device, for the Go
// differential test: node nodediff.js ARTIFACT.json REQUESTS.json CLIENT.
// Prints a JSON array with one Delivery response per request (or
// {"error": message}). The SDK is resolved from NODE_PATH.
"use strict";
const fs = require("fs");
const TargetClient = require("@adobe/target-nodejs-sdk");

const [artifactFile, requestsFile, clientCode] = process.argv.slice(2);
const artifact = JSON.parse(fs.readFileSync(artifactFile, "utf8"));
const requests = JSON.parse(fs.readFileSync(requestsFile, "utf8"));
const quiet = { debug() {}, error() {} };

const client = TargetClient.create({
  client: clientCode,
  organizationId: "someOrgId",
  decisioningMethod: "on-device",
  artifactPayload: artifact,
  pollingInterval: 0,
  telemetryEnabled: false,
  // Notifications of execute decisions go nowhere: a closed loopback port.
  serverDomain: "127.0.0.1:9",
  secure: false,
  cdnBasePath: "127.0.0.1:9",
  logger: quiet,
  events: {
    clientReady: async () => {
      const out = [];
      for (const request of requests) {
        try {
          const result = await client.getOffers({ request, sessionId: "diff-session" });
          out.push(result.response);
        } catch (err) {
          out.push({ error: String(err && err.message ? err.message : err) });
        }
      }
      // Exit once the output is flushed: a pipe is written asynchronously.
      process.stdout.write(JSON.stringify(out), () => process.exit(0));
    }
  }
});
