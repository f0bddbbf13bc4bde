// Hands out one loopback address per Pod from 127.64.0.0/16, the dev cluster's pod network.
// Addresses are handed out round-robin so a just-freed address is not reused at once (clients
// may still hold connections to the old pod). The starting point is random because several
// dev clusters (parallel test files) share the host's loopback: two agents starting at the
// same address would hand the same IP to pods that then fight over the same ports.
export class PodIpAllocator {
  private readonly used = new Set<number>();
  private next: number;
  private static readonly SIZE = 65536;

  constructor(start = 2 + Math.floor(Math.random() * (PodIpAllocator.SIZE - 3))) {
    this.next = start;
  }

  allocate(preferred?: string): string {
    const wanted = preferred ? PodIpAllocator.offsetOf(preferred) : undefined;
    if (wanted !== undefined && !this.used.has(wanted)) {
      this.used.add(wanted);
      return PodIpAllocator.addressOf(wanted);
    }
    for (let i = 0; i < PodIpAllocator.SIZE; i++) {
      const candidate = this.next;
      this.next = this.next + 1 >= PodIpAllocator.SIZE - 1 ? 2 : this.next + 1;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return PodIpAllocator.addressOf(candidate);
      }
    }
    throw new Error('pod network 127.64.0.0/16 is exhausted');
  }

  release(ip: string): void {
    const offset = PodIpAllocator.offsetOf(ip);
    if (offset !== undefined) this.used.delete(offset);
  }

  static offsetOf(ip: string): number | undefined {
    const m = /^127\.64\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
    if (!m) return undefined;
    const offset = Number(m[1]) * 256 + Number(m[2]);
    return offset >= 2 && offset < PodIpAllocator.SIZE - 1 && Number(m[1]) < 256 && Number(m[2]) < 256 ? offset : undefined;
  }

  static addressOf(offset: number): string {
    return `127.64.${Math.floor(offset / 256)}.${offset % 256}`;
  }
}
