"""Direct access to a running daemon's BPF maps, for tests of the kernel side.

The rule tables (vg_rule_*) are not pinned and the ring buffer is not either:
tests reach them through the daemon's own file descriptors (map ids from
/proc/PID/fdinfo), with the bpf(2) syscall through ctypes — no bpftool needed.
The layouts mirror include/vigil/abi.h; the hashes mirror VG_HASH_* and
VG_NAME_HASH_*.
"""
import ctypes
import mmap
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_SYS_BPF = 321  # x86_64
BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM = 1, 2, 3
BPF_MAP_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD = 14, 15

# abi.h
VG_RK_FILE, VG_RK_EXEC, VG_RK_SYSCALL, VG_RK_MAX = 0, 1, 2, 3
(VG_RW_PATH, VG_RW_BASE, VG_RW_PARENT_BASE, VG_RW_EXE_EXCEPT, VG_RW_EXE_ONLY, VG_RW_SYSCALL,
 VG_RW_SYSCALL_ARG) = range(7)
VG_XC_MEMFD, VG_XC_STDIO_SOCK, VG_XC_GAINED_ROOT, VG_XC_MAX = 0, 1, 2, 4
VG_MSG_ALERT = 3
FA = dict(read=0, write=1, create=2, truncate=3, unlink=4, rename_from=5, rename_to=6, chmod=7,
          chown=8, link=9, symlink=10, exec=11, mmap_exec=12, setid=13, utimes=14,
          xattr_caps=15, memfd=16, failed=30)
M64 = (1 << 64) - 1


def _bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), 128)
    r = _libc.syscall(_SYS_BPF, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r, buf.raw


def str_id(s):
    """The interned-string id the kernel gives s (VG_HASH_*, VG_STR_ID)."""
    data = s.encode() + b"\0"
    n = len(data)
    h = (0xcbf29ce484222325 ^ n) & M64
    for off in range(0, n, 8):
        w = int.from_bytes(data[off:off + 8].ljust(8, b"\0"), "little")
        h ^= w
        h = (h * 0x9e3779b97f4a7c15) & M64
        h ^= h >> 32
    cls = 0 if n <= 128 else 1 if n <= 512 else 2
    bits = h & ~(3 << 62) & M64
    return (bits or 1) | (cls << 62)


def name_hash(name):
    """VG_NAME_HASH (FNV-1a 64) of one path component."""
    h = 0xcbf29ce484222325
    for c in name.encode():
        h = ((h ^ c) * 0x100000001b3) & M64
    return h


def rbits(*bits):
    w = [0, 0]
    for b in bits:
        w[b // 64] |= 1 << (b % 64)
    return w


def pack_rbits(w):
    return struct.pack("<QQ", *w)


class Ruleset:
    """struct vg_ruleset, filled by tests bit by bit."""

    FIELDS = ["all", "need_prefix", "need_path", "need_base", "need_parent", "need_only",
              "need_root", "need_nonroot"]

    def __init__(self):
        self.v = {f: [0, 0] for f in self.FIELDS}
        self.need_cond = [[0, 0] for _ in range(VG_XC_MAX)]
        self.act = [[0, 0] for _ in range(32)]
        self.scan_all = 0
        self.nrules = 0
        self.need_arg = [0, 0]  # syscall rules with a kernel argument condition
        self.arg_idx = 0
        self.rel_not = [[0, 0] for _ in range(3)]  # not when the target is self/child/descendant

    def rule(self, bit, need=(), acts=(), conds=()):
        self._or("all", bit)
        for n in need:
            self._or("need_" + n, bit)
        for a in acts:
            self.act[FA[a]][bit // 64] |= 1 << (bit % 64)
        for c in conds:
            self.need_cond[c][bit // 64] |= 1 << (bit % 64)
        self.nrules = max(self.nrules, bit + 1)
        return self

    def _or(self, f, bit):
        self.v[f][bit // 64] |= 1 << (bit % 64)

    def pack(self):
        b = b"".join(pack_rbits(self.v[f]) for f in self.FIELDS)
        b += b"".join(pack_rbits(w) for w in self.need_cond)
        b += b"".join(pack_rbits(w) for w in self.act)
        b += struct.pack("<II", self.scan_all, self.nrules)
        b += pack_rbits(self.need_arg) + struct.pack("<II", self.arg_idx, 0)
        return b + b"".join(pack_rbits(w) for w in self.rel_not)


class DaemonMaps:
    """The maps of one daemon process, by name."""

    def __init__(self, pid):
        self.fds = {}
        self.info = {}
        for fd in os.listdir(f"/proc/{pid}/fdinfo"):
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    txt = f.read()
            except OSError:
                continue
            for line in txt.splitlines():
                if line.startswith("map_id:"):
                    self._open(int(line.split()[1]))

    def _open(self, map_id):
        try:
            fd, _ = _bpf(BPF_MAP_GET_FD_BY_ID, struct.pack("<III", map_id, 0, 0))
        except OSError:
            return
        info = ctypes.create_string_buffer(256)
        attr = struct.pack("<IIQ", fd, 256, ctypes.addressof(info))
        _bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
        mtype, mid, ks, vs, me, mf = struct.unpack_from("<IIIIII", info.raw, 0)
        name = info.raw[24:40].split(b"\0")[0].decode()
        if name in self.fds:
            os.close(fd)
            return
        self.fds[name] = fd
        self.info[name] = dict(type=mtype, key_size=ks, value_size=vs, max_entries=me)

    def close(self):
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}

    def update(self, name, key, value, flags=0):
        k = ctypes.create_string_buffer(key, len(key))
        v = ctypes.create_string_buffer(value, len(value))
        attr = struct.pack("<IIQQQ", self.fds[name], 0, ctypes.addressof(k),
                           ctypes.addressof(v), flags)
        _bpf(BPF_MAP_UPDATE_ELEM, attr)

    def lookup(self, name, key):
        k = ctypes.create_string_buffer(key, len(key))
        v = ctypes.create_string_buffer(self.info[name]["value_size"])
        attr = struct.pack("<IIQQQ", self.fds[name], 0, ctypes.addressof(k),
                           ctypes.addressof(v), 0)
        try:
            _bpf(BPF_MAP_LOOKUP_ELEM, attr)
        except OSError:
            return None
        return v.raw

    def flow_row(self, key):
        """A flow's row (struct vg_flow), where the programs find it (vg_flow_row): a TCP
        connection's (key: its cookie alone) in its vg_conns slot — VG_CONN_PROBES (4) slots
        from cookie & (length - 1), the one whose claim names the cookie — else vg_flows."""
        cookie, = struct.unpack_from("<Q", key)
        if key[45] == 0 and key[44] == 6 and "vg_conns" in self.info:
            n = self.info["vg_conns"]["max_entries"]
            for i in range(4):
                v = self.lookup("vg_conns", struct.pack("<I", (cookie + i) & (n - 1)))
                if v and struct.unpack_from("<Q", v)[0] >> 2 == cookie:
                    return v[8:]
        return self.lookup("vg_flows", key)

    # ---- rule tables ----

    def gen(self):
        return struct.unpack("<I", self.lookup("vg_rule_gen", struct.pack("<I", 0)))[0] & 1

    def install(self, sets, names=(), prefixes=()):
        """Write a rule set into the idle generation and make it the active one.

        sets: {kind: Ruleset}; names: [(kind, what, value, rbits)] or
        [(kind, what, value, rbits, aux)] (VG_RW_SYSCALL_ARG: aux = nr << 3 | index);
        prefixes: [(kind, prefix_str, rbits)]. Returns the generation."""
        gen = 1 - self.gen()
        for kind in range(VG_RK_MAX):
            rs = sets.get(kind, Ruleset())
            self.update("vg_rule_sets", struct.pack("<I", gen * VG_RK_MAX + kind), rs.pack())
        for kind, what, value, w, *aux in names:
            self.update("vg_rule_names",
                        struct.pack("<BBHIQ", gen, kind, what, aux[0] if aux else 0, value),
                        pack_rbits(w))
        for kind, prefix, w in prefixes:
            data = prefix.encode()[:126]
            key = struct.pack("<IBB", 16 + 8 * len(data), gen, kind) + data.ljust(126, b"\0")
            self.update("vg_rule_prefix", key, pack_rbits(w))
        self.update("vg_rule_gen", struct.pack("<I", 0), struct.pack("<I", gen))
        return gen

    def clear(self):
        """An empty rule set becomes the active one."""
        return self.install({})

    # ---- alerts, read from the ring buffer without consuming ----

    def ring(self):
        return Ring(self.fds["vg_events"], self.info["vg_events"]["max_entries"])


class Ring:
    """Peek at a BPF ring buffer from a saved position: records stay readable
    after the daemon consumed them, until the producer wraps over them."""

    def __init__(self, fd, size):
        self.size = size
        page = mmap.PAGESIZE
        self.cons = mmap.mmap(fd, page, mmap.MAP_SHARED, mmap.PROT_READ, offset=0)
        self.prod = mmap.mmap(fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
        self.page = page

    def producer_pos(self):
        return struct.unpack_from("<Q", self.prod, 0)[0]

    def read_from(self, pos):
        """Records (bytes) committed from pos to the producer position."""
        out = []
        end = self.producer_pos()
        while pos < end:
            off = self.page + (pos & (self.size - 1))
            hlen, _ = struct.unpack_from("<II", self.prod, off)
            if hlen & (1 << 31):  # busy: not committed yet
                break
            n = hlen & ~((1 << 31) | (1 << 30))
            if not hlen & (1 << 30):  # not discarded
                out.append(bytes(self.prod[off + 8:off + 8 + n]))
            pos += (8 + n + 7) & ~7
        return out

    def close(self):
        self.cons.close()
        self.prod.close()


def parse_alert(b):
    """struct vg_alert -> dict (the union by kind)."""
    typ, ln, t = struct.unpack_from("<IIQ", b, 0)
    start, tgid = struct.unpack_from("<QI", b, 16)
    w0, w1 = struct.unpack_from("<QQ", b, 32)
    gen, kind, _, uid = struct.unpack_from("<BBHI", b, 48)
    a = dict(type=typ, len=ln, time=t, proc=(tgid, start), rules=[w0, w1], gen=gen, kind=kind,
             uid=uid)
    u = 56
    if kind == VG_RK_FILE:
        path, path2, ino, dev, actions, flags, mode = struct.unpack_from("<QQQIIII", b, u)
        a.update(path=path, path2=path2, ino=ino, dev=dev, actions=actions, flags=flags,
                 mode=mode)
    elif kind == VG_RK_EXEC:
        exe, argv, pexe, flags = struct.unpack_from("<QQQI", b, u)
        a.update(exe=exe, argv=argv, parent_exe=pexe, flags=flags)
    else:
        nr, ret = struct.unpack_from("<Ii", b, u)
        args = struct.unpack_from("<6Q", b, u + 8)
        s, tstart, ttgid = struct.unpack_from("<QQI", b, u + 56)
        a.update(nr=nr, ret=ret, args=list(args), str=s, target=(ttgid, tstart))
    return a
