// Drives Adobe's Node.js Target SDK for the Go SDK's interoperability tests
// (target/interop_test.go).
//
// Input, one JSON document on stdin:
//
//   {
//     "config": {...},          // TargetClient.create options (client,
//                               // organizationId, serverDomain, secure,
//                               // timeout, ...), without fetchApi
//     "redirect": "http://127.0.0.1:PORT",  // optional, see below
//     "calls": [
//       {"call": "getOffers" | "getAttributes" | "sendNotifications",
//        "options": {...},      // the call's options (request, sessionId,
//                               // targetCookie, targetLocationHint, ...)
//        "mboxNames": [...],    // getAttributes only
//        "config": {...},       // optional, merged over the top-level config
//        "sameClient": false,   // true: reuse the previous call's client
//        "visitor": "page-1",   // optional: the calls naming one visitor share
//                               // one Visitor instance (the SDK's visitor
//                               // option), made from the first one's
//                               // visitorCookie, as a page view would
//        "previousSDID": false} // true: the request carries the
//                               // supplementalDataId the previous call sent
//     ]
//   }
//
// Every call gets a new TargetClient unless it says sameClient, because a
// client remembers the edge cluster and the telemetry of its earlier calls
// and would change what later calls send.
//
// Output, one JSON document on stdout:
//
//   {"results": [{"ok": true, "value": {...}} | {"ok": false, "error": "..."}],
//    "requests": [{"call": N, "method": "POST", "url": "...", "headers": {...},
//                  "body": "...", "status": 200, "responseBody": "..."}],
//    "errorLog": [{"call": N, "message": "..."}]}
//
// where value is the SDK's result (for getAttributes: {"attributes": asObject(),
// "response": the getOffers result}) and requests are what the SDK handed to
// its fetch function, in order, retries included, with the URL it meant and
// the raw answer, and errorLog is what the SDK logged as errors (such as an
// mbox or notification it dropped as invalid).
//
// Without "redirect" the SDK's own fetch (Node's global fetch) sends the
// requests. With it, requests go to that origin whatever host the SDK chose,
// over node:http so that the Host header still names the host the SDK meant
// (fetch cannot set Host): the SDK routes to mboxedge{cluster}.tt.omtrdc.net
// once it knows a cluster, and the local edge can then tell where it meant to
// go.
"use strict";

const http = require("node:http");
const TargetClient = require("@adobe/target-nodejs-sdk");
// The Experience Cloud ID service's server library, which the SDK depends on.
const Visitor = require("@adobe-mcid/visitor-js-server");

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", chunk => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function headersObject(headers) {
  const out = {};
  if (!headers) {
    return out;
  }
  if (typeof headers.forEach === "function" && !Array.isArray(headers)) {
    headers.forEach((value, key) => {
      out[key] = value;
    });
    return out;
  }
  Object.keys(headers).forEach(key => {
    out[key] = String(headers[key]);
  });
  return out;
}

// redirectFetch sends a fetch-style request to origin over node:http, with
// the Host header of the URL the SDK meant.
function redirectFetch(origin) {
  const target = new URL(origin);
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const meant = new URL(url);
      const headers = { ...headersObject(init.headers), Host: meant.host };
      const body = init.body === undefined ? undefined : String(init.body);
      if (body !== undefined) {
        headers["Content-Length"] = Buffer.byteLength(body);
      }
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: init.method || "GET",
          path: meant.pathname + meant.search,
          headers,
          agent: false
        },
        res => {
          const chunks = [];
          res.on("data", chunk => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const status = res.statusCode;
            const text = Buffer.concat(chunks);
            const noBody = status === 204 || status === 304;
            resolve(
              new Response(noBody ? null : text, {
                status,
                statusText: res.statusMessage,
                headers: Object.entries(res.headers).map(([k, v]) => [
                  k,
                  Array.isArray(v) ? v.join(", ") : String(v)
                ])
              })
            );
          });
        }
      );
      req.on("error", reject);
      if (body !== undefined) {
        req.write(body);
      }
      req.end();
    });
}

// recordingFetch records every request before handing it to send, and the
// raw answer, so that the test can compare it with what the SDK parsed.
function recordingFetch(send, requests, callIndex) {
  return async (url, init = {}) => {
    const record = {
      call: callIndex(),
      method: init.method || "GET",
      url: String(url),
      headers: headersObject(init.headers),
      body: init.body === undefined ? null : String(init.body)
    };
    requests.push(record);
    const res = await send(url, init);
    record.status = res.status;
    record.responseBody = await res.clone().text();
    return res;
  };
}

// plain turns an SDK result into JSON-safe data.
function plain(value) {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

async function run(input) {
  if (!input || typeof input !== "object" || !Array.isArray(input.calls)) {
    throw new Error("input needs a calls array");
  }
  const requests = [];
  const results = [];
  const logged = [];
  let current = -1;
  const send = input.redirect ? redirectFetch(input.redirect) : (url, init) => fetch(url, init);
  const fetchApi = recordingFetch(send, requests, () => current);

  let client;
  const visitors = {};
  for (let i = 0; i < input.calls.length; i += 1) {
    const call = input.calls[i];
    current = i;
    try {
      if (!client || !call.sameClient) {
        client = TargetClient.create({
          ...input.config,
          ...(call.config || {}),
          fetchApi,
          logger: {
            debug() {},
            error: (...args) => logged.push({ call: current, message: args.map(a => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") })
          }
        });
      }
      const options = call.options || {};
      if (call.visitor) {
        if (!visitors[call.visitor]) {
          const orgId = { ...input.config, ...(call.config || {}) }.organizationId;
          visitors[call.visitor] = new Visitor(orgId, options.visitorCookie);
        }
        options.visitor = visitors[call.visitor];
      }
      if (call.previousSDID) {
        const previous = i > 0 && results[i - 1].ok ? results[i - 1].value : null;
        const sent = previous && (previous.request || (previous.response && previous.response.request));
        const sdid = sent && sent.experienceCloud && sent.experienceCloud.analytics && sent.experienceCloud.analytics.supplementalDataId;
        if (!sdid) {
          throw new Error("previousSDID: the previous call sent no supplementalDataId");
        }
        const request = options.request || {};
        const ec = request.experienceCloud || {};
        options.request = { ...request, experienceCloud: { ...ec, analytics: { ...(ec.analytics || {}), supplementalDataId: sdid } } };
      }
      let value;
      switch (call.call) {
        case "getOffers":
          value = plain(await client.getOffers(options));
          break;
        case "getAttributes": {
          const attributes = await client.getAttributes(call.mboxNames || [], options);
          value = {
            attributes: plain(attributes.asObject()),
            response: plain(attributes.getResponse())
          };
          break;
        }
        case "sendNotifications":
          value = plain(await client.sendNotifications(options));
          break;
        default:
          throw new Error(`unknown call ${JSON.stringify(call.call)}`);
      }
      results.push({ ok: true, value });
    } catch (err) {
      results.push({ ok: false, error: err && err.message ? err.message : String(err) });
    }
  }
  return { results, requests, errorLog: logged };
}

readStdin()
  .then(text => run(JSON.parse(text)))
  .then(
    output => {
      // The SDK arms a readiness timer and fetch keeps idle connections:
      // exit once the output is written rather than when they let go.
      process.stdout.write(JSON.stringify(output), () => process.exit(0));
    },
    err => {
      process.stderr.write(`interop.js: ${err && err.stack ? err.stack : err}\n`);
      process.exit(2);
    }
  );
