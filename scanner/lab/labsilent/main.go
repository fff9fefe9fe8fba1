// Command labsilent plays the lab's quiet listeners: it accepts TCP connections and
// holds them open without a word (-hold), or closes them at once (-close). The lab
// runs it inside a network namespace, also as the listener behind a tarpit.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"strings"
	"time"
)

func main() {
	hold := flag.String("hold", "", "comma-separated addresses whose connections are held in silence")
	closeAt := flag.String("close", "", "comma-separated addresses whose connections are closed at once")
	flag.Parse()
	for _, spec := range []struct {
		list string
		hold bool
	}{{*hold, true}, {*closeAt, false}} {
		for _, address := range strings.Split(spec.list, ",") {
			if address == "" {
				continue
			}
			ln, err := net.Listen("tcp", address)
			if err != nil {
				log.Fatal(err)
			}
			go serve(ln, spec.hold)
		}
	}
	select {}
}

func serve(ln net.Listener, hold bool) {
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		if !hold {
			c.Close()
			continue
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			io.Copy(io.Discard, c)
		}()
	}
}
