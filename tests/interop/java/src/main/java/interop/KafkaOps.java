package interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cloudevents.CloudEvent;
import io.cloudevents.jackson.JsonFormat;
import io.cloudevents.kafka.CloudEventSerializer;
import io.cloudevents.kafka.KafkaMessageFactory;
import io.cloudevents.kafka.PartitionKeyExtensionInterceptor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Kafka part of the Java helper: the official cloudevents-kafka binding on kafka-clients.
 *
 * <pre>
 * {"op":"send","proto":"kafka","mode":...,"url":"host:port","address":topic,"event":{...}} -> {"ok":true}
 *   a KafkaProducer with the binding's CloudEventSerializer (binary, or structured with the JSON
 *   format) and its PartitionKeyExtensionInterceptor (the Key Mapper: partitionkey -> key)
 * {"op":"recv_all","proto":"kafka","url":"host:port","address":topic,"count":n}
 *   -> {"records":[{"key":k|null,"value_null":bool,"event":{...} | "error":"..."}]}
 *   the first n records of every partition from the oldest offset (assigned, no group), each
 *   read with KafkaMessageFactory.createReader(record).toEvent()
 * </pre>
 */
final class KafkaOps {
  private static final Map<String, KafkaProducer<Object, CloudEvent>> PRODUCERS = new HashMap<>();

  private KafkaOps() {}

  static void handle(JsonNode request, ObjectNode reply) throws Exception {
    String op = request.path("op").asText();
    String bootstrap = request.path("url").asText();
    String topic = request.path("address").asText();
    if ("send".equals(op)) {
      boolean structured = "structured".equals(request.path("mode").asText());
      CloudEvent event = Helper.toSdk(request.get("event"));
      producer(bootstrap, structured).send(new ProducerRecord<>(topic, event)).get(30, TimeUnit.SECONDS);
      reply.put("ok", true);
    } else if ("recv_all".equals(op)) {
      int count = request.path("count").asInt();
      double timeout = request.path("timeout").asDouble(30);
      reply.set("records", receive(bootstrap, topic, count, (long) (timeout * 1000), reply));
    } else {
      throw new IllegalArgumentException("unknown op " + op);
    }
  }

  private static KafkaProducer<Object, CloudEvent> producer(String bootstrap, boolean structured) {
    return PRODUCERS.computeIfAbsent(
        bootstrap + "|" + structured,
        k -> {
          Properties props = new Properties();
          props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
          props.put(ProducerConfig.CLIENT_ID_CONFIG, "eventbus-interop-java");
          props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
          props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, CloudEventSerializer.class);
          props.put(
              ProducerConfig.INTERCEPTOR_CLASSES_CONFIG,
              PartitionKeyExtensionInterceptor.class.getName());
          props.put(CloudEventSerializer.ENCODING_CONFIG, structured ? "STRUCTURED" : "BINARY");
          if (structured) {
            props.put(CloudEventSerializer.EVENT_FORMAT_CONFIG, JsonFormat.CONTENT_TYPE);
          }
          return new KafkaProducer<>(props);
        });
  }

  private static ArrayNode receive(
      String bootstrap, String topic, int count, long timeoutMillis, ObjectNode reply) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "eventbus-interop-java");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    ArrayNode records = Helper.JSON.createArrayNode();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofMillis(timeoutMillis))) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.currentTimeMillis() + timeoutMillis;
      while (records.size() < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          records.add(read(record));
        }
      }
      if (records.size() < count) {
        reply.put("error", records.size() + " of " + count + " records arrived");
      }
    }
    return records;
  }

  private static ObjectNode read(ConsumerRecord<byte[], byte[]> record) {
    ObjectNode out = Helper.JSON.createObjectNode();
    if (record.key() == null) {
      out.putNull("key");
    } else {
      out.put("key", new String(record.key(), StandardCharsets.UTF_8));
    }
    out.put("value_null", record.value() == null);
    try {
      out.set("event", Helper.fromSdk(KafkaMessageFactory.createReader(record).toEvent()));
    } catch (RuntimeException e) {
      out.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    return out;
  }
}
