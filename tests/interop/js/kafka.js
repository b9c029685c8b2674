// The Kafka part of the JavaScript helper: the `cloudevents` package's Kafka binding
// (Kafka.binary / Kafka.structured / Kafka.toEvent) with kafkajs as the Kafka client. The binding
// only converts messages; this file hands them to kafkajs the way an application would: a JSON
// value as JSON text, header values without the undefined ones, keys and header values read
// back as strings.
//
// {"op": "send", "proto": "kafka", "mode": ..., "url": "host:port", "address": topic, "event": {...}} -> {"ok": true}
// {"op": "recv_all", "proto": "kafka", "url": "host:port", "address": topic, "count": n}
//   -> {"records": [{"key": k|null, "value_null": bool, "event": {...} | "error": "..."}]}
//   (the topic's records from the beginning, read by a consumer group of its own)
"use strict";
const { Kafka: KafkaClient, logLevel } = require("kafkajs");
const { Kafka } = require("cloudevents");

const clients = new Map();
const producers = new Map();

function client(bootstrap) {
  if (!clients.has(bootstrap)) {
    clients.set(bootstrap, new KafkaClient({ clientId: "eventbus-interop-js", brokers: [bootstrap], logLevel: logLevel.NOTHING }));
  }
  return clients.get(bootstrap);
}

async function producer(bootstrap) {
  if (!producers.has(bootstrap)) {
    const p = client(bootstrap).producer();
    producers.set(bootstrap, p.connect().then(() => p));
  }
  return producers.get(bootstrap);
}

function kafkaValue(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  return JSON.stringify(value);
}

async function send(request, toSdk) {
  const event = toSdk(request.event);
  const message = request.mode === "structured" ? Kafka.structured(event) : Kafka.binary(event);
  const headers = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined && value !== null) headers[name] = String(value);
  }
  const p = await producer(request.url);
  await p.send({
    topic: request.address,
    acks: -1,
    messages: [{ key: message.key === undefined ? null : message.key, value: kafkaValue(message.value), headers }],
  });
  return { ok: true };
}

async function recvAll(request, fromSdk) {
  const consumer = client(request.url).consumer({ groupId: `interop-js-${process.pid}-${request.id}` });
  const records = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: request.address, fromBeginning: true });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${records.length} of ${request.count} records arrived`)), (request.timeout || 30) * 1000);
      consumer.run({
        eachMessage: async ({ message }) => {
          const key = message.key === null ? null : message.key.toString("utf8");
          const headers = {};
          for (const [name, value] of Object.entries(message.headers || {})) headers[name] = value === undefined || value === null ? value : value.toString("utf8");
          try {
            const event = Kafka.toEvent({ key, headers, value: message.value, body: message.value });
            records.push({ key, value_null: message.value === null, event: fromSdk(event) });
          } catch (error) {
            records.push({ key, value_null: message.value === null, error: String(error && error.message ? error.message : error) });
          }
          if (records.length >= request.count) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch(reject);
    });
  } catch (error) {
    return { records, error: String(error && error.message ? error.message : error) };
  } finally {
    await consumer.disconnect();
  }
  return { records };
}

function handle(request, toSdk, fromSdk) {
  if (request.op === "send") return send(request, toSdk);
  if (request.op === "recv_all") return recvAll(request, fromSdk);
  return Promise.reject(new Error(`unknown op ${request.op}`));
}

async function close() {
  for (const p of producers.values()) await (await p).disconnect();
}

module.exports = { handle, close };
