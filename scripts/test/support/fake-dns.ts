import { createSocket } from "node:dgram";

export interface FakeDns {
  /** `127.0.0.1:<port>`, for DNS_SERVERS. */
  server: string;
  /** Names asked, in order. */
  readonly asked: string[];
  close(): Promise<void>;
}

/**
 * A loopback DNS server answering A queries from a table (RFC 1035 §4.1): a listed name gets its addresses, any
 * other NXDOMAIN. Enough for c-ares (node:dns Resolver) and nothing more: one question per query, no EDNS.
 */
export async function startFakeDns(records: Record<string, string[]>): Promise<FakeDns> {
  const socket = createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (query, peer) => {
    // Header (12 bytes), then the question: labels up to a zero byte, QTYPE, QCLASS.
    let offset = 12;
    const labels: string[] = [];
    while (query[offset]! > 0) {
      const length = query[offset]!;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString("ascii"));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const name = labels.join(".").toLowerCase();
    asked.push(name);
    const qtype = query.readUInt16BE(offset + 1);
    const addresses = qtype === 1 ? (records[name] ?? []) : [];
    const known = name in records;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the id
    header.writeUInt16BE(known ? 0x8180 : 0x8183, 2); // response, recursion available; NXDOMAIN when unknown
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(60, 6); // TTL
      rr.writeUInt16BE(4, 10);
      ip.split(".").forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
      return rr;
    });
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    asked,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
