// The Go side of the interop suite: one long-lived process that reads cases as JSON lines on
// stdin and answers each with one JSON line on stdout. Every message is written and read by the
// official sdk-go bindings: protocol/nats/v2 (core NATS), protocol/nats_jetstream/v2,
// protocol/pubsub/v2, protocol/amqp/v2 and protocol/kafka_sarama/v2 (kafka.go); the transports
// are their own client libraries (nats.go, cloud.google.com/go/pubsub/v2, go-amqp, IBM/sarama).
//
// Request:  {"id": 1, "op": "send"|"recv"|"respond"|"request", "proto": "nats"|"jetstream"|"pubsub"|"amqp",
//
//	"mode": "binary"|"structured", "url": "...", "address": "...", "event": {...}}
//
// "recv" answers {"id": 1, "ready": true} once it listens, then {"id": 1, "event": {...}}.
// "respond" and "request" (core NATS request-reply) are in rpc.go.
// Events travel as {"attributes": {name: {"type": T, "value": canonical string}},
// "data_base64": "..." (absent: no data)}.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/Azure/go-amqp"
	ceamqp "github.com/cloudevents/sdk-go/protocol/amqp/v2"
	cenats "github.com/cloudevents/sdk-go/protocol/nats/v2"
	cejs "github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	cepubsub "github.com/cloudevents/sdk-go/protocol/pubsub/v2"
	ce "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"
)

type value struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type wireEvent struct {
	Attributes map[string]value `json:"attributes"`
	DataBase64 *string          `json:"data_base64,omitempty"`
}

type request struct {
	ID      int        `json:"id"`
	Op      string     `json:"op"`
	Proto   string     `json:"proto"`
	Mode    string     `json:"mode"`
	URL     string     `json:"url"`
	Address string     `json:"address"`
	Event   *wireEvent `json:"event"`
	Timeout float64    `json:"timeout"`
	Count   int        `json:"count"`
}

type reply struct {
	ID       int        `json:"id"`
	Ready    bool       `json:"ready,omitempty"`
	OK       bool       `json:"ok,omitempty"`
	Event    *wireEvent `json:"event,omitempty"`
	Encoding string     `json:"encoding,omitempty"`
	Error    string     `json:"error,omitempty"`
}

var (
	outMu sync.Mutex
	out   = json.NewEncoder(os.Stdout)
	conns = map[string]*nats.Conn{}
	psc   = map[string]*pubsub.Client{}
	amqps = map[string]*amqp.Session{}
	mu    sync.Mutex
)

func answer(r reply) {
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(r)
}

// -- events ------------------------------------------------------------------------------------

func toSDK(w *wireEvent) (ce.Event, error) {
	e := ce.NewEvent()
	for name, v := range w.Attributes {
		var typed interface{}
		switch v.Type {
		case "integer":
			n, err := strconv.ParseInt(v.Value, 10, 32)
			if err != nil {
				return e, err
			}
			typed = int32(n)
		case "boolean":
			typed = v.Value == "true"
		case "binary":
			b, err := base64.StdEncoding.DecodeString(v.Value)
			if err != nil {
				return e, err
			}
			typed = b
		case "timestamp":
			t, err := time.Parse(time.RFC3339Nano, v.Value)
			if err != nil {
				return e, err
			}
			typed = t
		case "uri":
			u, err := url.Parse(v.Value)
			if err != nil {
				return e, err
			}
			typed = types.URI{URL: *u}
		case "urireference":
			u, err := url.Parse(v.Value)
			if err != nil {
				return e, err
			}
			typed = types.URIRef{URL: *u}
		default:
			typed = v.Value
		}
		switch name {
		case "specversion":
		case "id":
			e.SetID(v.Value)
		case "source":
			e.SetSource(v.Value)
		case "type":
			e.SetType(v.Value)
		case "subject":
			e.SetSubject(v.Value)
		case "dataschema":
			e.SetDataSchema(v.Value)
		case "datacontenttype":
			e.SetDataContentType(v.Value)
		case "time":
			e.SetTime(typed.(time.Time))
		default:
			e.SetExtension(name, typed)
		}
	}
	if w.DataBase64 != nil {
		data, err := base64.StdEncoding.DecodeString(*w.DataBase64)
		if err != nil {
			return e, err
		}
		e.DataEncoded = data
		e.DataBase64 = e.DataContentType() != "" && !isTextual(e.DataContentType())
	}
	return e, e.Validate()
}

func isTextual(ct string) bool {
	media := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return strings.HasSuffix(media, "json") || strings.HasPrefix(media, "text/")
}

func canonical(v interface{}) (value, error) {
	switch x := v.(type) {
	case int32:
		return value{"integer", strconv.FormatInt(int64(x), 10)}, nil
	case bool:
		return value{"boolean", strconv.FormatBool(x)}, nil
	case []byte:
		return value{"binary", base64.StdEncoding.EncodeToString(x)}, nil
	case types.Timestamp:
		return value{"timestamp", x.Time.Format(time.RFC3339Nano)}, nil
	case time.Time:
		return value{"timestamp", x.Format(time.RFC3339Nano)}, nil
	case types.URI:
		return value{"uri", x.String()}, nil
	case types.URIRef:
		return value{"urireference", x.String()}, nil
	case string:
		return value{"string", x}, nil
	}
	s, err := types.Format(v)
	return value{"string", s}, err
}

func fromSDK(e *ce.Event) (*wireEvent, error) {
	w := &wireEvent{Attributes: map[string]value{}}
	set := func(name, v string) {
		if v != "" {
			w.Attributes[name] = value{"string", v}
		}
	}
	set("specversion", e.SpecVersion())
	set("id", e.ID())
	set("source", e.Source())
	set("type", e.Type())
	set("subject", e.Subject())
	set("dataschema", e.DataSchema())
	set("datacontenttype", e.DataContentType())
	if !e.Time().IsZero() {
		w.Attributes["time"] = value{"timestamp", e.Time().Format(time.RFC3339Nano)}
	}
	for name, v := range e.Extensions() {
		c, err := canonical(v)
		if err != nil {
			return nil, err
		}
		w.Attributes[name] = c
	}
	if data := e.Data(); data != nil {
		s := base64.StdEncoding.EncodeToString(data)
		w.DataBase64 = &s
	}
	return w, nil
}

func readMessage(ctx context.Context, m binding.Message) (*wireEvent, string, error) {
	encoding := m.ReadEncoding().String()
	e, err := binding.ToEvent(ctx, m)
	if err != nil {
		return nil, encoding, err
	}
	w, err := fromSDK(e)
	return w, encoding, err
}

func modeContext(ctx context.Context, mode string) context.Context {
	if mode == "structured" {
		return binding.WithForceStructured(ctx)
	}
	return binding.WithForceBinary(ctx)
}

// -- transports --------------------------------------------------------------------------------

func natsConn(u string) (*nats.Conn, error) {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := conns[u]; ok {
		return c, nil
	}
	c, err := nats.Connect(u)
	if err == nil {
		conns[u] = c
	}
	return c, err
}

func pubsubClient(ctx context.Context, host, project string) (*pubsub.Client, error) {
	mu.Lock()
	defer mu.Unlock()
	key := host + "/" + project
	if c, ok := psc[key]; ok {
		return c, nil
	}
	os.Setenv("PUBSUB_EMULATOR_HOST", host)
	c, err := pubsub.NewClient(context.Background(), project)
	if err == nil {
		psc[key] = c
	}
	return c, err
}

func amqpSession(u string) (*amqp.Session, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := amqps[u]; ok {
		return s, nil
	}
	client, err := amqp.Dial(u, amqp.ConnSASLAnonymous())
	if err != nil {
		return nil, err
	}
	s, err := client.NewSession()
	if err == nil {
		amqps[u] = s
	}
	return s, err
}

// splitPubsub: "host|project|topic-or-subscription"
func splitPubsub(address string) (string, string, string) {
	parts := strings.SplitN(address, "|", 3)
	return parts[0], parts[1], parts[2]
}

func send(ctx context.Context, r request) error {
	event, err := toSDK(r.Event)
	if err != nil {
		return fmt.Errorf("building the event: %w", err)
	}
	ctx = modeContext(ctx, r.Mode)
	msg := binding.ToMessage(&event)
	switch r.Proto {
	case "nats":
		conn, err := natsConn(r.URL)
		if err != nil {
			return err
		}
		sender, err := cenats.NewSenderFromConn(conn, r.Address)
		if err != nil {
			return err
		}
		if err := sender.Send(ctx, msg); err != nil {
			return err
		}
		return conn.Flush()
	case "jetstream":
		conn, err := natsConn(r.URL)
		if err != nil {
			return err
		}
		js, err := conn.JetStream()
		if err != nil {
			return err
		}
		stream, err := js.StreamNameBySubject(r.Address)
		if err != nil {
			return fmt.Errorf("no stream captures %q: %w", r.Address, err)
		}
		sender, err := cejs.NewSenderFromConn(conn, stream, r.Address, nil)
		if err != nil {
			return err
		}
		return sender.Send(ctx, msg)
	case "pubsub":
		host, project, topic := splitPubsub(r.Address)
		client, err := pubsubClient(ctx, host, project)
		if err != nil {
			return err
		}
		pm := &pubsub.Message{Attributes: map[string]string{}}
		if err := cepubsub.WritePubSubMessage(ctx, msg, pm); err != nil {
			return err
		}
		publisher := client.Publisher(topic)
		defer publisher.Stop()
		_, err = publisher.Publish(ctx, pm).Get(ctx)
		return err
	case "amqp":
		session, err := amqpSession(r.URL)
		if err != nil {
			return err
		}
		am := amqp.NewMessage(nil)
		if err := ceamqp.WriteMessage(ctx, msg, am); err != nil {
			return err
		}
		sender, err := session.NewSender(amqp.LinkTargetAddress(r.Address))
		if err != nil {
			return err
		}
		defer sender.Close(context.Background())
		return sender.Send(ctx, am)
	case "kafka":
		return kafkaSend(ctx, r, msg)
	}
	return fmt.Errorf("unknown proto %q", r.Proto)
}

func recv(ctx context.Context, r request) (*wireEvent, string, error) {
	switch r.Proto {
	case "nats", "jetstream":
		conn, err := natsConn(r.URL)
		if err != nil {
			return nil, "", err
		}
		var sub *nats.Subscription
		if r.Proto == "nats" {
			sub, err = conn.SubscribeSync(r.Address)
			if err == nil {
				err = conn.Flush()
			}
		} else {
			var js nats.JetStreamContext
			js, err = conn.JetStream()
			if err == nil {
				sub, err = js.SubscribeSync(r.Address, nats.DeliverNew(), nats.AckExplicit())
			}
		}
		if err != nil {
			return nil, "", err
		}
		defer sub.Unsubscribe()
		answer(reply{ID: r.ID, Ready: true})
		nm, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, "", err
		}
		if r.Proto == "nats" {
			return readMessage(ctx, cenats.NewMessage(nm))
		}
		_ = nm.Ack()
		return readMessage(ctx, cejs.NewMessage(nm))
	case "pubsub":
		host, project, subscription := splitPubsub(r.Address)
		client, err := pubsubClient(ctx, host, project)
		if err != nil {
			return nil, "", err
		}
		answer(reply{ID: r.ID, Ready: true})
		got := make(chan *pubsub.Message, 1)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			_ = client.Subscriber(subscription).Receive(cctx, func(_ context.Context, m *pubsub.Message) {
				m.Ack()
				select {
				case got <- m:
				default:
				}
				cancel()
			})
		}()
		select {
		case m := <-got:
			return readMessage(ctx, cepubsub.NewMessage(m))
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	case "amqp":
		session, err := amqpSession(r.URL)
		if err != nil {
			return nil, "", err
		}
		receiver, err := session.NewReceiver(
			amqp.LinkSourceAddress(r.Address), amqp.LinkSenderSettle(amqp.ModeSettled),
		)
		if err != nil {
			return nil, "", err
		}
		defer receiver.Close(context.Background())
		answer(reply{ID: r.ID, Ready: true})
		am, err := receiver.Receive(ctx)
		if err != nil {
			return nil, "", err
		}
		return readMessage(ctx, ceamqp.NewMessage(am, receiver))
	}
	return nil, "", fmt.Errorf("unknown proto %q", r.Proto)
}

func handle(r request) {
	defer func() {
		if p := recover(); p != nil {
			answer(reply{ID: r.ID, Error: fmt.Sprintf("panic: %v", p)})
		}
	}()
	timeout := time.Duration(r.Timeout * float64(time.Second))
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	switch r.Op {
	case "send":
		if err := send(ctx, r); err != nil {
			answer(reply{ID: r.ID, Error: err.Error()})
			return
		}
		answer(reply{ID: r.ID, OK: true})
	case "recv":
		w, encoding, err := recv(ctx, r)
		if err != nil {
			answer(reply{ID: r.ID, Error: err.Error(), Encoding: encoding})
			return
		}
		answer(reply{ID: r.ID, Event: w, Encoding: encoding})
	case "respond", "request":
		do := respond
		if r.Op == "request" {
			do = requestReply
		}
		w, err := do(ctx, r)
		if err != nil {
			answer(reply{ID: r.ID, Error: err.Error()})
			return
		}
		answer(reply{ID: r.ID, Event: w})
	case "recv_all":
		answerRecvAll(ctx, r)
	default:
		answer(reply{ID: r.ID, Error: "unknown op " + r.Op})
	}
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	var wg sync.WaitGroup
	answer(reply{ID: 0, Ready: true})
	for scanner.Scan() {
		var r request
		if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
			answer(reply{ID: -1, Error: err.Error()})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			handle(r)
		}()
	}
	wg.Wait()
}
