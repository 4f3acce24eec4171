// The probe of nodeprobe_test.go: decides each request with Adobe's Node.js SDK
// on-device and records the whole response, meta, geo lookups and the
// body and URL of every other request (notifications).
//
//	node probe.js ARTIFACT.json REQUESTS.json CLIENT
"use strict";
const fs = require("fs");
const [artifactFile, requestsFile, clientCode] = process.argv.slice(2);
const artifact = JSON.parse(fs.readFileSync(artifactFile, "utf8"));
const requests = JSON.parse(fs.readFileSync(requestsFile, "utf8"));
const quiet = { debug() {}, error() {} };
let lookups = [];
let sent = [];
function hdr(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return headers.get(name) || undefined;
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
  return undefined;
}
global.fetch = async function (url, options = {}) {
  const u = String(url);
  let body = {};
  if (u.includes("/v1/geo")) {
    const h = hdr(options.headers, "x-forwarded-for");
    lookups.push(h === undefined ? "" : String(h).trim());
    body = h ? { "x-geo-country-code": "US", "x-geo-region-code": "CA", "x-geo-city": "SAN FRANCISCO", "x-geo-latitude": 37.75, "x-geo-longitude": -122.4 }
             : { "x-geo-country-code": "SERVERLAND" };
  } else {
    let b = options.body;
    try { b = JSON.parse(b); } catch (e) {}
    sent.push({ url: u, body: b });
  }
  return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
};
const TargetClient = require("@adobe/target-nodejs-sdk");
const client = TargetClient.create({
  client: clientCode, organizationId: "someOrgId", decisioningMethod: "on-device",
  artifactPayload: artifact, pollingInterval: 0, telemetryEnabled: false,
  serverDomain: "127.0.0.1:9", secure: false, cdnBasePath: "127.0.0.1:9", logger: quiet,
  events: {
    clientReady: async () => {
      const out = [];
      for (const item of requests) {
        lookups = []; sent = [];
        try {
          const opts = { request: item.request, sessionId: "probe-session" };
          if (item.visitorCookie) opts.visitorCookie = item.visitorCookie;
          if (item.targetCookie) opts.targetCookie = item.targetCookie;
          if (item.targetLocationHint) opts.targetLocationHintCookie = item.targetLocationHint;
          const r = await client.getOffers(opts);
          await new Promise(res => setTimeout(res, 15));
          out.push({ response: r.response, meta: r.meta, targetCookie: r.targetCookie, targetLocationHintCookie: r.targetLocationHintCookie, responseTokens: r.responseTokens, analyticsDetails: r.analyticsDetails, trace: r.trace, geoLookups: lookups, sent });
        } catch (err) {
          await new Promise(res => setTimeout(res, 5));
          out.push({ error: String(err && err.message ? err.message : err), geoLookups: lookups, sent });
        }
      }
      process.stdout.write(JSON.stringify(out), () => process.exit(0));
    }
  }
});
