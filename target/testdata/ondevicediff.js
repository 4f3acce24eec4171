// Decides requests with Adobe's Node.js SDK on-device, for the Go
// differential fuzzer (ondevice_diff_test.go):
//
//	node ondevicediff.js ARTIFACT.json REQUESTS.json CLIENT
//
// Prints a JSON array with one entry per request: {"status", "response",
// "meta", "geoLookups"} or {"error": message}. geoLookups lists the
// X-Forwarded-For header of each geo lookup the request caused ("" when
// the lookup sent none). Nothing goes to the network: geo lookups are
// answered from the same table the Go side uses (geoAnswer), and every
// other request (notifications) gets an empty 200. The SDK is resolved
// from NODE_PATH.
"use strict";
const fs = require("fs");

const [artifactFile, requestsFile, clientCode] = process.argv.slice(2);
const artifact = JSON.parse(fs.readFileSync(artifactFile, "utf8"));
const requests = JSON.parse(fs.readFileSync(requestsFile, "utf8"));
const quiet = { debug() {}, error() {} };

// The geo table: keep in step with diffGeoAnswer in ondevice_diff_test.go.
function geoAnswer(ip) {
  switch (ip) {
    case undefined:
    case "":
      // Where the server is: what a lookup without the visitor's address finds.
      return { "x-geo-country-code": "SERVERLAND", "x-geo-city": "SERVERTOWN", "x-geo-latitude": 1.5, "x-geo-longitude": 2.5 };
    case "203.0.113.7":
      return { "x-geo-country-code": "US", "x-geo-region-code": "CA", "x-geo-city": "SAN FRANCISCO", "x-geo-latitude": 37.75, "x-geo-longitude": -122.4 };
    case "2001:db8::7":
      return { "x-geo-country-code": "CA", "x-geo-region-code": "BC", "x-geo-city": "VANCOUVER", "x-geo-latitude": "49.28", "x-geo-longitude": "-123.12" };
    default:
      return { "x-geo-country-code": "RO" };
  }
}

let lookups = [];

function headerOf(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return headers.get(name) || undefined;
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() === name) return headers[k];
  }
  return undefined;
}

async function fakeFetch(url, options = {}) {
  const u = String(url);
  let body = {};
  if (u.includes("/v1/geo")) {
    // White space around a header value is not part of it (RFC 9110,
    // section 5.5): the CDN sees the address alone.
    const header = headerOf(options.headers, "x-forwarded-for");
    const ip = header === undefined ? undefined : String(header).trim();
    lookups.push(ip || "");
    body = geoAnswer(ip);
  }
  return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
}

// The SDK takes the global fetch when it loads.
global.fetch = fakeFetch;
const TargetClient = require("@adobe/target-nodejs-sdk");

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
  logger: quiet,
  events: {
    clientReady: async () => {
      const out = [];
      for (const request of requests) {
        lookups = [];
        try {
          const result = await client.getOffers({ request, sessionId: "diff-session" });
          out.push({ status: result.response.status, response: result.response, meta: result.meta, geoLookups: lookups });
        } catch (err) {
          out.push({ error: String(err && err.message ? err.message : err), geoLookups: lookups });
        }
      }
      // Exit once the output is flushed: a pipe is written asynchronously.
      process.stdout.write(JSON.stringify(out), () => process.exit(0));
    }
  }
});
