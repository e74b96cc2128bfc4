#!/usr/bin/python3
"""One client of the chaos test (chaos_test.cc), run as one uid in the testbed's host netns
and cgroup, driven line by line on stdin; it answers each command with JSON lines on stdout.

It talks Varlink to netd over one connection, made again whenever netd went away, and keeps
the fds netd hands it (vifs, raw sockets) across kills, so the test can check after each
restart that what was handed out before is still isolated:

  {"op":"call","method":M,"parameters":P,"keep":bool,"probe":bool}
      -> {"event":"sent"} once the request is written (or {"event":"unreachable"}), then
         {"event":"reply","reply":R} or {"event":"reply","closed":true}. With keep, a vif's or
         raw socket's fd is held (probe: the slice's probe vif, which the workload spares).
  {"op":"close","kind":"vif"|"raw","pick":N}   closes one held fd (probe vifs are spared)
  {"op":"held"}                     -> {"event":"held","vifs":[...],"probes":[...],"raws":N}
  {"op":"marks"}                    -> {"event":"marks","marks":[udp, tcp6]}: a new socket's SO_MARK
  {"op":"udp-self","port":P,"payload":S}
      -> {"event":"udp-self","ok":bool}: a datagram to its own listener on 127.0.0.1:P, once
         received (raw sockets of every uid have had their copy queued by then)
  {"op":"udp-send","dst":A,"port":P,"payload":S} -> {"event":"udp-send","errno":E}
  {"op":"raw-drain"} / {"op":"raw-seen"}
      -> {"event":"raw-seen","payloads":[...]}: UDP payloads queued on the held raw sockets
  {"op":"raw-fence","port":P,"tag":T}
      -> {"event":"raw-fence","sockets":[{mark, detach_errno, forged, allowed}]}: per held
         raw UDP socket, a forged-source datagram (IP_HDRINCL, 10.0.1.99) and then an allowed
         one (127.0.0.1) to its own listener; whether each arrived (the allowed one is waited
         for, so a forged one that got through would be in the queue before it)
  {"op":"tun-drain","name":V} / {"op":"tun-seen","name":V,"until":S}
      -> {"event":"tun-seen","payloads":[...],"found":bool}: what the held vif V carried until S
"""
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

SOCKET = os.environ["NETD_SOCKET"]
BOUND = 10.0  # seconds: how long to wait for what must arrive before reporting it did not
SO_DETACH_FILTER = 27
TUNGETIFF = 0x800454D2  # fails (EBADFD) once the fd's device is gone


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Netd:
    def __init__(self):
        self.conn = None

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, method, parameters):
        """Sends one call; returns (reply or None, fds). None, None: netd not reachable."""
        for attempt in (0, 1):
            if self.conn is None:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    c.connect(SOCKET)
                except OSError:
                    c.close()
                    return None, None
                self.conn = c
            try:
                self.conn.sendall(json.dumps({"method": method, "parameters": parameters}).encode() + b"\0")
                break
            except OSError:
                self.drop()  # netd went away since the last call: once more, anew
                if attempt:
                    return None, None
        emit({"event": "sent"})
        reply, fds = b"", []
        while not reply.endswith(b"\0"):
            try:
                chunk, got, _, _ = socket.recv_fds(self.conn, 65536, 16)
            except OSError:
                chunk, got = b"", []
            fds += got
            if not chunk:
                self.drop()
                for fd in fds:
                    os.close(fd)
                return {"closed": True}, []
            reply += chunk
        return json.loads(reply[:-1]), fds


class Agent:
    def __init__(self):
        self.netd = Netd()
        self.vifs = []  # {"name", "fd", "probe"}
        self.raws = []  # {"sock"}

    def call(self, cmd):
        reply, fds = self.netd.call(cmd["method"], cmd.get("parameters", {}))
        if reply is None:
            emit({"event": "unreachable"})
            return
        params = reply.get("parameters", {})
        for fd in fds:
            if not cmd.get("keep"):
                os.close(fd)
            elif "vif" in params:
                os.set_blocking(fd, False)
                self.vifs.append({"name": params["vif"]["name"], "fd": fd, "probe": bool(cmd.get("probe"))})
            else:
                self.raws.append({"sock": socket.socket(fileno=fd)})
        emit({"event": "reply", **({"closed": True} if "closed" in reply else {"reply": reply})})

    def prune_dead_vifs(self):
        for v in list(self.vifs):
            try:
                fcntl.ioctl(v["fd"], TUNGETIFF, bytes(40))
            except OSError:
                os.close(v["fd"])
                self.vifs.remove(v)

    def close(self, cmd):
        self.prune_dead_vifs()
        held = [v for v in self.vifs if not v["probe"]] if cmd["kind"] == "vif" else self.raws
        if not held:
            emit({"event": "closed", "what": None})
            return
        victim = held[cmd.get("pick", 0) % len(held)]
        if cmd["kind"] == "vif":
            os.close(victim["fd"])
            self.vifs.remove(victim)
            emit({"event": "closed", "what": victim["name"]})
        else:
            victim["sock"].close()
            self.raws.remove(victim)
            emit({"event": "closed", "what": "raw"})

    def marks(self):
        out = []
        for family, kind in ((socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_INET6, socket.SOCK_STREAM)):
            with socket.socket(family, kind) as s:
                out.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK))
        emit({"event": "marks", "marks": out})

    @staticmethod
    def receive(listener, want):
        """Datagrams on listener until one equals want (or BOUND passes); all of them."""
        got, deadline = [], time.monotonic() + BOUND
        while want not in got:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([listener], [], [], left)[0]:
                break
            got.append(listener.recv(65536).decode("latin-1"))
        return got

    def udp_self(self, cmd):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            listener.bind(("127.0.0.1", cmd["port"]))
            sender.sendto(cmd["payload"].encode(), ("127.0.0.1", cmd["port"]))
            emit({"event": "udp-self", "ok": cmd["payload"] in self.receive(listener, cmd["payload"])})

    def udp_send(self, cmd):
        family = socket.AF_INET6 if ":" in cmd["dst"] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            try:
                s.sendto(cmd["payload"].encode(), (cmd["dst"], cmd["port"]))
                emit({"event": "udp-send", "errno": 0})
            except OSError as e:
                emit({"event": "udp-send", "errno": e.errno})

    @staticmethod
    def queued(fd_read):
        out = []
        while True:
            try:
                data = fd_read()
            except (BlockingIOError, InterruptedError):
                return out
            except OSError:  # the device went away: nothing more comes
                return out
            out.append(data)

    def raw_seen(self, emit_it=True):
        payloads = []
        for r in self.raws:
            for packet in self.queued(lambda: r["sock"].recv(65536, socket.MSG_DONTWAIT)):
                ihl = (packet[0] & 0x0F) * 4 if packet else 0
                payloads.append(packet[ihl + 8:].decode("latin-1"))
        if emit_it:
            emit({"event": "raw-seen", "payloads": payloads})

    def raw_fence(self, cmd):
        results = []
        for i, r in enumerate(self.raws):
            s = r["sock"]
            res = {"mark": s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK)}
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
                res["detach_errno"] = 0
            except OSError as e:
                res["detach_errno"] = e.errno
            port = cmd["port"] + i
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
                listener.bind(("127.0.0.1", port))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
                sent = {}
                for label, src in (("forged", "10.0.1.99"), ("allowed", "127.0.0.1")):
                    payload = ("%s-%s-%d" % (cmd["tag"], label, i)).encode()
                    udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
                    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                                     socket.inet_aton(src), socket.inet_aton("127.0.0.1"))
                    try:
                        s.sendto(ip + udp, ("127.0.0.1", 0))
                        sent[label] = 0
                    except OSError as e:
                        sent[label] = e.errno
                got = self.receive(listener, "%s-allowed-%d" % (cmd["tag"], i))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 0)
            res["forged"] = "%s-forged-%d" % (cmd["tag"], i) in got
            res["allowed"] = "%s-allowed-%d" % (cmd["tag"], i) in got
            res["sent"] = sent
            results.append(res)
        self.raw_seen(emit_it=False)  # what the sends put in the queues is no other slice's
        emit({"event": "raw-fence", "sockets": results})

    def vif(self, name):
        self.prune_dead_vifs()
        return next((v for v in self.vifs if v["name"] == name), None)

    def tun_seen(self, cmd, until=None):
        v, payloads, found = self.vif(cmd["name"]), [], False
        deadline = time.monotonic() + BOUND
        while v is not None and until is not None and not found:
            for packet in self.queued(lambda: os.read(v["fd"], 65536)):
                payloads.append(packet[28:].decode("latin-1") if packet[:1] == b"\x45" else "")
                found = found or payloads[-1] == until
            left = deadline - time.monotonic()
            if found or left <= 0 or not select.select([v["fd"]], [], [], left)[0]:
                break
        if v is not None and until is None:
            self.queued(lambda: os.read(v["fd"], 65536))
        emit({"event": "tun-seen", "held": v is not None, "payloads": payloads, "found": found})

    def run(self):
        for line in sys.stdin:
            cmd = json.loads(line)
            op = cmd["op"]
            if op == "call":
                self.call(cmd)
            elif op == "close":
                self.close(cmd)
            elif op == "held":
                self.prune_dead_vifs()
                emit({"event": "held", "vifs": [v["name"] for v in self.vifs],
                      "probes": [v["name"] for v in self.vifs if v["probe"]], "raws": len(self.raws)})
            elif op == "marks":
                self.marks()
            elif op == "udp-self":
                self.udp_self(cmd)
            elif op == "udp-send":
                self.udp_send(cmd)
            elif op == "raw-drain":
                self.raw_seen(emit_it=False)
                emit({"event": "drained"})
            elif op == "raw-seen":
                self.raw_seen()
            elif op == "raw-fence":
                self.raw_fence(cmd)
            elif op == "tun-drain":
                self.tun_seen(cmd)
            elif op == "tun-seen":
                self.tun_seen(cmd, cmd["until"])
            elif op == "quit":
                return


if __name__ == "__main__":
    emit({"event": "ready"})
    Agent().run()
