package interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.cloudevents.amqp.ProtonAmqpMessageFactory;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.core.message.MessageReader;
import io.cloudevents.http.HttpMessageFactory;
import io.cloudevents.jackson.JsonFormat;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.qpid.proton.message.Message;

/**
 * The Java side of the interop suite: one long-lived process reading cases as JSON lines on stdin
 * and answering each with one JSON line on stdout. Events are written and read by the official
 * io.cloudevents SDK: its HTTP binding (ce- headers, the closest it has to eventbus's NATS
 * headers), its AMQP binding (Proton-J messages, handed over as encoded AMQP bytes) and its
 * Kafka binding through a real broker (see {@link KafkaOps}).
 *
 * <pre>
 * {"id":1,"op":"encode","proto":"http"|"amqp","mode":"binary"|"structured","event":{...}}
 *   -> http: {"id":1,"headers":{...},"body_base64":"..."}   amqp: {"id":1,"message_base64":"..."}
 * {"id":1,"op":"decode","proto":"http","headers":{...},"body_base64":"..."} -> {"id":1,"event":{...}}
 * {"id":1,"op":"decode","proto":"amqp","message_base64":"..."}              -> {"id":1,"event":{...}}
 * </pre>
 */
public final class Helper {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getEncoder();
  private static final Base64.Decoder UNB64 = Base64.getDecoder();

  private Helper() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    out.println("{\"id\":0,\"ready\":true}");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      ObjectNode reply = JSON.createObjectNode();
      try {
        JsonNode request = JSON.readTree(line);
        reply.put("id", request.path("id").asInt(-1));
        handle(request, reply);
      } catch (Exception e) {
        reply.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
      }
      out.println(JSON.writeValueAsString(reply));
    }
  }

  private static void handle(JsonNode request, ObjectNode reply) throws Exception {
    String op = request.path("op").asText();
    String proto = request.path("proto").asText();
    boolean structured = "structured".equals(request.path("mode").asText());
    if ("kafka".equals(proto)) { // send / recv_all through a Kafka broker: KafkaOps
      KafkaOps.handle(request, reply);
      return;
    }
    if ("encode".equals(op)) {
      CloudEvent event = toSdk(request.get("event"));
      if ("http".equals(proto)) {
        Map<String, String> headers = new LinkedHashMap<>();
        byte[][] body = {new byte[0]};
        var writer = HttpMessageFactory.createWriter(headers::put, b -> body[0] = b);
        if (structured) {
          writer.writeStructured(event, JsonFormat.CONTENT_TYPE);
        } else {
          writer.writeBinary(event);
        }
        reply.set("headers", JSON.valueToTree(headers));
        reply.put("body_base64", B64.encodeToString(body[0] == null ? new byte[0] : body[0]));
      } else if ("amqp".equals(proto)) {
        var writer = ProtonAmqpMessageFactory.createWriter();
        Message message =
            structured
                ? writer.writeStructured(event, JsonFormat.CONTENT_TYPE)
                : writer.writeBinary(event);
        reply.put("message_base64", B64.encodeToString(encode(message)));
      } else {
        throw new IllegalArgumentException("unknown proto " + proto);
      }
    } else if ("decode".equals(op)) {
      MessageReader reader;
      if ("http".equals(proto)) {
        Map<String, String> headers = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = request.get("headers").fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> f = fields.next();
          headers.put(f.getKey(), f.getValue().asText());
        }
        byte[] body = UNB64.decode(request.path("body_base64").asText(""));
        reader = HttpMessageFactory.createReader(headers, body.length == 0 ? null : body);
      } else if ("amqp".equals(proto)) {
        byte[] bytes = UNB64.decode(request.path("message_base64").asText());
        Message message = Message.Factory.create();
        message.decode(bytes, 0, bytes.length);
        reader = ProtonAmqpMessageFactory.createReader(message);
      } else {
        throw new IllegalArgumentException("unknown proto " + proto);
      }
      reply.set("event", fromSdk(reader.toEvent()));
    } else {
      throw new IllegalArgumentException("unknown op " + op);
    }
  }

  private static byte[] encode(Message message) {
    byte[] buffer = new byte[1 << 16];
    while (true) {
      try {
        int n = message.encode(buffer, 0, buffer.length);
        byte[] out = new byte[n];
        System.arraycopy(buffer, 0, out, 0, n);
        return out;
      } catch (java.nio.BufferOverflowException e) {
        buffer = new byte[buffer.length * 4];
      }
    }
  }

  static CloudEvent toSdk(JsonNode wire) {
    CloudEventBuilder b = CloudEventBuilder.v1();
    Iterator<Map.Entry<String, JsonNode>> fields = wire.get("attributes").fields();
    String contentType = null;
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String name = f.getKey();
      String type = f.getValue().get("type").asText();
      String value = f.getValue().get("value").asText();
      switch (name) {
        case "specversion":
          break;
        case "id":
          b.withId(value);
          break;
        case "source":
          b.withSource(URI.create(value));
          break;
        case "type":
          b.withType(value);
          break;
        case "subject":
          b.withSubject(value);
          break;
        case "dataschema":
          b.withDataSchema(URI.create(value));
          break;
        case "datacontenttype":
          contentType = value;
          b.withDataContentType(value);
          break;
        case "time":
          b.withTime(OffsetDateTime.parse(value));
          break;
        default:
          switch (type) {
            case "integer":
              b.withExtension(name, Integer.parseInt(value));
              break;
            case "boolean":
              b.withExtension(name, Boolean.parseBoolean(value));
              break;
            case "uri":
              b.withExtension(name, URI.create(value));
              break;
            case "timestamp":
              b.withExtension(name, OffsetDateTime.parse(value));
              break;
            case "binary":
              b.withExtension(name, UNB64.decode(value));
              break;
            default:
              b.withExtension(name, value);
          }
      }
    }
    JsonNode data = wire.get("data_base64");
    if (data != null && !data.isNull()) {
      b.withData(contentType, UNB64.decode(data.asText()));
    }
    return b.build();
  }

  private static ObjectNode typed(String type, String value) {
    ObjectNode node = JSON.createObjectNode();
    node.put("type", type);
    node.put("value", value);
    return node;
  }

  static ObjectNode fromSdk(CloudEvent event) {
    ObjectNode attributes = JSON.createObjectNode();
    attributes.set("specversion", typed("string", event.getSpecVersion().toString()));
    attributes.set("id", typed("string", event.getId()));
    attributes.set("source", typed("string", event.getSource().toString()));
    attributes.set("type", typed("string", event.getType()));
    if (event.getSubject() != null) {
      attributes.set("subject", typed("string", event.getSubject()));
    }
    if (event.getDataSchema() != null) {
      attributes.set("dataschema", typed("string", event.getDataSchema().toString()));
    }
    if (event.getDataContentType() != null) {
      attributes.set("datacontenttype", typed("string", event.getDataContentType()));
    }
    if (event.getTime() != null) {
      attributes.set(
          "time", typed("timestamp", event.getTime().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)));
    }
    for (String name : event.getExtensionNames()) {
      Object value = event.getExtension(name);
      if (value instanceof Integer || value instanceof Long) {
        attributes.set(name, typed("integer", value.toString()));
      } else if (value instanceof Boolean) {
        attributes.set(name, typed("boolean", value.toString()));
      } else if (value instanceof byte[]) {
        attributes.set(name, typed("binary", B64.encodeToString((byte[]) value)));
      } else if (value instanceof URI) {
        attributes.set(name, typed("uri", value.toString()));
      } else if (value instanceof OffsetDateTime) {
        attributes.set(
            name,
            typed(
                "timestamp",
                ((OffsetDateTime) value).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)));
      } else {
        attributes.set(name, typed("string", String.valueOf(value)));
      }
    }
    ObjectNode out = JSON.createObjectNode();
    out.set("attributes", attributes);
    if (event.getData() != null) {
      out.put("data_base64", B64.encodeToString(event.getData().toBytes()));
    }
    if (event.getSpecVersion() != SpecVersion.V1) {
      out.put("warning", "not a 1.0 event");
    }
    return out;
  }
}
