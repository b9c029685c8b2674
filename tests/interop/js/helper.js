// The JavaScript side of the interop suite: one long-lived process reading cases as JSON lines
// on stdin and answering each with one JSON line on stdout. Messages are written and read by the
// official `cloudevents` package's HTTP binding (binary: ce- headers; structured: JSON format),
// the closest binding it has to the ce- headers eventbus puts on NATS messages; requests with
// "proto": "kafka" go through a Kafka broker with its Kafka binding (kafka.js).
//
// {"id": 1, "op": "encode", "mode": "binary"|"structured", "event": {...}} -> {"id": 1, "headers": {...}, "body_base64": "..."}
// {"id": 1, "op": "decode", "headers": {...}, "body_base64": "..."}          -> {"id": 1, "event": {...}}
"use strict";
const readline = require("readline");
const { CloudEvent, HTTP } = require("cloudevents");
const kafka = require("./kafka");

const CONTEXT = ["specversion", "id", "source", "type", "subject", "dataschema", "datacontenttype", "time"];

function textual(ct) {
  const media = (ct || "").split(";")[0].trim().toLowerCase();
  return media === "" || media.endsWith("json") || media.startsWith("text/");
}

function isJson(ct) {
  const media = (ct || "").split(";")[0].trim().toLowerCase();
  return media === "" || media === "application/json" || media.endsWith("+json") || media.endsWith("/json");
}

function toSdk(wire) {
  const attrs = {};
  for (const [name, { type, value }] of Object.entries(wire.attributes)) {
    if (type === "integer") attrs[name] = Number(value);
    else if (type === "boolean") attrs[name] = value === "true";
    else attrs[name] = value;
  }
  if (wire.data_base64 !== undefined) {
    const bytes = Buffer.from(wire.data_base64, "base64");
    const ct = attrs.datacontenttype;
    if (isJson(ct)) attrs.data = JSON.parse(bytes.toString("utf8"));
    else if (textual(ct)) attrs.data = bytes.toString("utf8");
    else attrs.data = new Uint8Array(bytes);
  }
  return new CloudEvent(attrs, false);
}

function typed(value) {
  if (typeof value === "boolean") return { type: "boolean", value: String(value) };
  if (typeof value === "number" && Number.isInteger(value)) return { type: "integer", value: String(value) };
  return { type: "string", value: String(value) };
}

function fromSdk(event) {
  const attributes = {};
  for (const [name, value] of Object.entries(event.toJSON())) {
    if (name === "data" || name === "data_base64" || value === undefined || value === null) continue;
    attributes[name] = CONTEXT.includes(name) ? { type: name === "time" ? "timestamp" : "string", value: String(value) } : typed(value);
  }
  const out = { attributes };
  let data = event.data;
  if (data === undefined && event.data_base64 !== undefined) data = Buffer.from(event.data_base64, "base64");
  if (data !== undefined && data !== null) {
    let bytes;
    if (ArrayBuffer.isView(data) || Array.isArray(data) && event.data_base64 !== undefined) bytes = Buffer.from(Array.from(data));
    else if (typeof data === "string" && !isJson(event.datacontenttype)) bytes = Buffer.from(data, "utf8");
    else bytes = Buffer.from(JSON.stringify(data), "utf8");
    out.data_base64 = bytes.toString("base64");
  }
  return out;
}

function handle(request) {
  if (request.op === "encode") {
    const event = toSdk(request.event);
    const message = request.mode === "structured" ? HTTP.structured(event) : HTTP.binary(event);
    let body = message.body;
    if (body === undefined || body === null) body = Buffer.alloc(0);
    else if (typeof body === "string") body = Buffer.from(body, "utf8");
    else if (!(body instanceof Uint8Array)) body = Buffer.from(JSON.stringify(body), "utf8");
    return { headers: message.headers, body_base64: Buffer.from(body).toString("base64") };
  }
  if (request.op === "decode") {
    const body = Buffer.from(request.body_base64, "base64");
    // An HTTP server hands the SDK a string body for text and JSON, a Buffer otherwise.
    const ct = Object.entries(request.headers).find(([k]) => ["content-type", "ce-datacontenttype"].includes(k.toLowerCase()));
    const text = !ct || textual(ct[1]) || ct[1].toLowerCase().startsWith("application/cloudevents");
    const event = HTTP.toEvent({ headers: request.headers, body: body.length === 0 ? undefined : (text ? body.toString("utf8") : body) });
    return { event: fromSdk(event) };
  }
  throw new Error(`unknown op ${request.op}`);
}

const lines = readline.createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ id: 0, ready: true }) + "\n");
lines.on("line", (line) => {
  let request = { id: -1 };
  try {
    request = JSON.parse(line);
    if (request.proto === "kafka") { // through a Kafka broker, asynchronously: kafka.js
      const id = request.id;
      kafka.handle(request, toSdk, fromSdk).then(
        (reply) => process.stdout.write(JSON.stringify({ id, ...reply }) + "\n"),
        (error) => process.stdout.write(JSON.stringify({ id, error: String(error && error.message ? error.message : error) }) + "\n"),
      );
      return;
    }
    process.stdout.write(JSON.stringify({ id: request.id, ...handle(request) }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: request.id, error: String(error && error.message ? error.message : error) }) + "\n");
  }
});
lines.on("close", () => {
  kafka.close().finally(() => process.exit(0));
});
