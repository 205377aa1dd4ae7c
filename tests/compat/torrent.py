#!/usr/bin/python3
"""BitTorrent pieces for the compatibility tests.

    torrent.py make FILE ANNOUNCE_URL OUT   write OUT, a .torrent of FILE
    torrent.py tracker PORT PEER_IP PEER_PORT ADDRESS...
        a UDP tracker (BEP 15) at PORT of each ADDRESS (one socket each, so
        that answers come from the address asked, as clients check) that
        answers every announce with the one peer PEER_IP:PEER_PORT. Prints
        "ready", then one line per request:
            request <client address> connect|announce|scrape
"""
import hashlib
import os
import select
import socket
import struct
import sys

PIECE = 16384


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def make(path, announce, out):
    data = open(path, "rb").read()
    pieces = b"".join(hashlib.sha1(data[i:i + PIECE]).digest()
                      for i in range(0, len(data), PIECE))
    info = {"name": os.path.basename(path), "length": len(data),
            "piece length": PIECE, "pieces": pieces}
    with open(out, "wb") as f:
        f.write(bencode({"announce": announce, "info": info}))


def tracker(port, peer_ip, peer_port, addresses):
    sockets = []
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((address, port))
        sockets.append(sock)
    peer = socket.inet_aton(peer_ip) + struct.pack(">H", peer_port)
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select(sockets, [], [])
        for sock in readable:
            answer(sock, peer)


def answer(sock, peer):
    packet, client = sock.recvfrom(2048)
    host = client[0]
    if len(packet) < 16:
        return
    connection, action, transaction = struct.unpack(">QII", packet[:16])
    if action == 0:  # connect: any connection id will do
        print(f"request {host} connect", flush=True)
        sock.sendto(struct.pack(">IIQ", 0, transaction, 0x5eed), client)
    elif action == 1:  # announce
        print(f"request {host} announce", flush=True)
        sock.sendto(struct.pack(">IIIII", 1, transaction, 60, 0, 1) + peer, client)
    elif action == 2:  # scrape
        print(f"request {host} scrape", flush=True)
        sock.sendto(struct.pack(">II", 2, transaction), client)


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "tracker":
        tracker(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    else:
        sys.exit("usage: torrent.py make FILE ANNOUNCE OUT | tracker PORT PEER_IP PEER_PORT ADDRESS...")


if __name__ == "__main__":
    main()
