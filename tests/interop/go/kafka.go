// The Kafka part of the Go helper: sdk-go's protocol/kafka_sarama/v2 binding over IBM/sarama.
//
//	{"op": "send", "proto": "kafka", "mode": ..., "url": "host:port", "address": topic, "event": {...}}
//	  -> {"ok": true}: the binding's Sender (WriteProducerMessage, its partitionkey Key Mapper on)
//	{"op": "recv_all", "proto": "kafka", "url": "host:port", "address": topic, "count": n}
//	  -> {"records": [{"key": k|null, "value_null": bool, "event": {...} | "error": ...}]}: the
//	     first n records of every partition from the oldest offset, read with the binding's
//	     NewMessageFromConsumerMessage.
//
// The binding's reader adds the record's offset, partition and topic as extensions
// (kafkaoffset, kafkapartition, kafkatopic, binary mode only); they describe the record, not the
// event that was sent, so the helper drops those three before comparing.
package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/IBM/sarama"
	cekafka "github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
)

var (
	kafkaMu      sync.Mutex
	kafkaClients = map[string]sarama.Client{}
	kafkaSenders = map[string]*cekafka.Sender{}
)

type kafkaRecord struct {
	Key       *string    `json:"key"`
	ValueNull bool       `json:"value_null"`
	Encoding  string     `json:"encoding,omitempty"`
	Event     *wireEvent `json:"event,omitempty"`
	Error     string     `json:"error,omitempty"`
}

type kafkaReply struct {
	ID      int           `json:"id"`
	Records []kafkaRecord `json:"records,omitempty"`
	Error   string        `json:"error,omitempty"`
}

func kafkaAnswer(r kafkaReply) {
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(r)
}

func kafkaClient(bootstrap string) (sarama.Client, error) {
	kafkaMu.Lock()
	defer kafkaMu.Unlock()
	if c, ok := kafkaClients[bootstrap]; ok {
		return c, nil
	}
	config := sarama.NewConfig()
	config.Version = sarama.V4_0_0_0
	config.ClientID = "eventbus-interop-go"
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	c, err := sarama.NewClient([]string{bootstrap}, config)
	if err == nil {
		kafkaClients[bootstrap] = c
	}
	return c, err
}

func kafkaSend(ctx context.Context, r request, msg binding.Message) error {
	client, err := kafkaClient(r.URL)
	if err != nil {
		return err
	}
	kafkaMu.Lock()
	sender, ok := kafkaSenders[r.URL+"|"+r.Address]
	if !ok {
		sender, err = cekafka.NewSenderFromClient(client, r.Address)
		if err == nil {
			kafkaSenders[r.URL+"|"+r.Address] = sender
		}
	}
	kafkaMu.Unlock()
	if err != nil {
		return err
	}
	return sender.Send(ctx, msg)
}

func kafkaRecvAll(ctx context.Context, r request) ([]kafkaRecord, error) {
	client, err := kafkaClient(r.URL)
	if err != nil {
		return nil, err
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	partitions, err := client.Partitions(r.Address)
	if err != nil {
		return nil, fmt.Errorf("partitions of %q: %w", r.Address, err)
	}
	got := make(chan *sarama.ConsumerMessage, r.Count)
	for _, p := range partitions {
		pc, err := consumer.ConsumePartition(r.Address, p, sarama.OffsetOldest)
		if err != nil {
			return nil, err
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				select {
				case got <- m:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	records := []kafkaRecord{}
	for len(records) < r.Count {
		select {
		case m := <-got:
			records = append(records, kafkaRead(ctx, m))
		case <-ctx.Done():
			return records, fmt.Errorf("%d of %d records arrived: %w", len(records), r.Count, ctx.Err())
		}
	}
	return records, nil
}

func kafkaRead(ctx context.Context, m *sarama.ConsumerMessage) kafkaRecord {
	record := kafkaRecord{ValueNull: m.Value == nil}
	if m.Key != nil {
		key := string(m.Key)
		record.Key = &key
	}
	w, encoding, err := readMessage(ctx, cekafka.NewMessageFromConsumerMessage(m))
	record.Encoding = encoding
	if err != nil {
		record.Error = err.Error()
		return record
	}
	for _, name := range []string{"kafkaoffset", "kafkapartition", "kafkatopic"} {
		delete(w.Attributes, name)
	}
	record.Event = w
	return record
}

// answerRecvAll answers a "recv_all" request (proto "kafka") within the request's timeout.
func answerRecvAll(ctx context.Context, r request) {
	records, err := kafkaRecvAll(ctx, r)
	reply := kafkaReply{ID: r.ID, Records: records}
	if err != nil {
		reply.Error = err.Error()
	}
	kafkaAnswer(reply)
}
