// goclient: a statically linked Go client (CGO_ENABLED=0). Go makes its
// system calls directly, without the C library, so an LD_PRELOAD library
// never sees them; bindsup must.
//
//	goclient tcp ADDR:PORT     HTTP GET, prints "peer <last line of the answer>"
//	goclient udp ADDR:PORT     one datagram, prints "peer <answer>"
//	goclient tcp ADDR:PORT N   N GETs, a new connection each (the benchmark's
//	                           request loop), prints "<rate> requests/s"
//
// ADDR:PORT as Go writes it: 10.200.0.1:8080 or [fd00:200::1]:8080.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "tcp" {
		loop(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goclient tcp|udp ADDR:PORT [N]")
		os.Exit(2)
	}
	conn, err := net.DialTimeout(os.Args[1], os.Args[2], 5*time.Second)
	if err != nil {
		fmt.Printf("error dial: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var reply string
	if os.Args[1] == "tcp" {
		fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n")
		b, err := io.ReadAll(conn)
		if err != nil {
			fmt.Printf("error read: %v\n", err)
			os.Exit(1)
		}
		reply = string(b)
	} else {
		conn.Write([]byte("hello"))
		b := make([]byte, 512)
		n, err := conn.Read(b)
		if err != nil {
			fmt.Printf("error read: %v\n", err)
			os.Exit(1)
		}
		reply = string(b[:n])
	}
	lines := strings.Split(strings.TrimRight(reply, "\r\n"), "\n")
	fmt.Printf("peer %s\n", strings.TrimSpace(lines[len(lines)-1]))
}

func loop(addr, count string) {
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "goclient: bad count")
		os.Exit(2)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Printf("error dial: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n")
		if _, err := io.ReadAll(conn); err != nil {
			fmt.Printf("error read: %v\n", err)
			os.Exit(1)
		}
		conn.Close()
	}
	fmt.Printf("%.0f requests/s\n", float64(n)/time.Since(start).Seconds())
}
