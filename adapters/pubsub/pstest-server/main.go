// Command pstest-server serves Google's in-memory Pub/Sub fake
// (cloud.google.com/go/pubsub/v2/pstest) over plaintext gRPC, for the eventbus-pubsub tests and
// benchmark.
//
// Usage:
//
//	pstest-server [-addr 127.0.0.1:0] [-stdin-eof] [-fail Method=CODE]... [-control]
//
// It prints "listening on HOST:PORT" once it accepts connections (and, with -control, "control
// on HOST:PORT"), then serves until SIGINT or SIGTERM (or, with -stdin-eof, until its standard
// input is closed: the parent died).
// -fail makes every call of a method fail with a gRPC status code, e.g. -fail
// Publish=PERMISSION_DENIED (pstest's error injection), to test error translation.
// -control serves an HTTP endpoint on 127.0.0.1 through which a test makes chosen Acknowledge
// and ModifyAckDeadline calls fail, as Pub/Sub reports ack failures (faults.go). Off by default.
//
// The fake's services are served by a gRPC server of this program (with pstest's own defaults:
// requests of at most 4 MiB), so that the ack faults can be injected in front of them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

type failures []pstest.ServerReactorOption

func (f *failures) String() string { return fmt.Sprint(len(*f), " failure(s)") }

func (f *failures) Set(value string) error {
	method, name, ok := strings.Cut(value, "=")
	if !ok || method == "" {
		return fmt.Errorf("want Method=CODE, got %q", value)
	}
	var code codes.Code
	if err := code.UnmarshalJSON([]byte(`"` + name + `"`)); err != nil {
		return fmt.Errorf("unknown gRPC code %q: %v", name, err)
	}
	*f = append(*f, pstest.WithErrorInjection(method, code, "injected by pstest-server -fail"))
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "host:port to listen on (port 0 picks a free one)")
	stdinEOF := flag.Bool("stdin-eof", false, "exit when standard input is closed")
	control := flag.Bool("control", false, "serve the ack fault-injection endpoint on 127.0.0.1")
	var fail failures
	flag.Var(&fail, "fail", "Method=CODE: make every call of Method fail (repeatable)")
	flag.Parse()

	// The fake itself also listens on a port of its own, which nothing uses.
	fake := pstest.NewServerWithAddress("127.0.0.1:0", fail...)
	defer fake.Close()
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pstest-server:", err)
		os.Exit(1)
	}
	injector := &faults{fake: fake}
	server := grpc.NewServer(grpc.UnaryInterceptor(injector.intercept))
	pb.RegisterPublisherServer(server, &fake.GServer)
	pb.RegisterSubscriberServer(server, &fake.GServer)
	pb.RegisterSchemaServiceServer(server, &fake.GServer)
	go func() { _ = server.Serve(listener) }()
	defer server.Stop()

	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "listening on %s\n", listener.Addr())
	if *control {
		endpoint, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "pstest-server:", err)
			os.Exit(1)
		}
		go func() { _ = http.Serve(endpoint, injector) }()
		fmt.Fprintf(out, "control on %s\n", endpoint.Addr())
	}
	out.Flush()

	done := make(chan os.Signal, 1)
	signal.Notify(done, syscall.SIGINT, syscall.SIGTERM)
	if *stdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			done <- syscall.SIGTERM
		}()
	}
	<-done
}
