// Hands out one loopback address per Pod from a node's share of 127.64.0.0/16, the dev
// cluster's pod network (each Node's spec.podCIDR, see node.ts).
// Addresses are handed out round-robin so a just-freed address is not reused at once (clients
// may still hold connections to the old pod). The starting point is random because several
// dev clusters (parallel test files) share the host's loopback: two agents starting at the
// same address would hand the same IP to pods that then fight over the same ports.
export class PodIpAllocator {
  private readonly used = new Set<number>();
  private next: number;
  private static readonly SIZE = 65536;
  private readonly first: number;
  private readonly end: number;

  /** Offsets [first, end) of 127.64.0.0/16; the network and broadcast addresses are never used. */
  constructor(range: { first: number; end: number } = { first: 2, end: PodIpAllocator.SIZE - 1 }, start?: number) {
    this.first = Math.max(2, range.first);
    this.end = Math.min(PodIpAllocator.SIZE - 1, range.end);
    this.next = start ?? this.first + Math.floor(Math.random() * (this.end - this.first));
  }

  /** The share of a node whose podCIDR is 127.64.<x>.0/<bits> (bits 16 to 24). */
  static rangeOfCidr(cidr: string): { first: number; end: number } {
    const m = /^127\.64\.(\d{1,3})\.0\/(\d{2})$/.exec(cidr);
    if (!m) return { first: 2, end: PodIpAllocator.SIZE - 1 };
    const size = 2 ** (32 - Number(m[2]));
    const first = Number(m[1]) * 256;
    return { first: Math.max(first, 2), end: Math.min(first + size, PodIpAllocator.SIZE - 1) };
  }

  allocate(preferred?: string): string {
    const wanted = preferred ? PodIpAllocator.offsetOf(preferred) : undefined;
    if (wanted !== undefined && wanted >= this.first && wanted < this.end && !this.used.has(wanted)) {
      this.used.add(wanted);
      return PodIpAllocator.addressOf(wanted);
    }
    for (let i = this.first; i < this.end; i++) {
      const candidate = this.next;
      this.next = this.next + 1 >= this.end ? this.first : this.next + 1;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return PodIpAllocator.addressOf(candidate);
      }
    }
    throw new Error(
      `pod network ${PodIpAllocator.addressOf(this.first)}-${PodIpAllocator.addressOf(this.end - 1)} is exhausted`,
    );
  }

  release(ip: string): void {
    const offset = PodIpAllocator.offsetOf(ip);
    if (offset !== undefined) this.used.delete(offset);
  }

  static offsetOf(ip: string): number | undefined {
    const m = /^127\.64\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
    if (!m) return undefined;
    const offset = Number(m[1]) * 256 + Number(m[2]);
    return offset >= 2 && offset < PodIpAllocator.SIZE - 1 && Number(m[1]) < 256 && Number(m[2]) < 256
      ? offset
      : undefined;
  }

  static addressOf(offset: number): string {
    return `127.64.${Math.floor(offset / 256)}.${offset % 256}`;
  }
}
