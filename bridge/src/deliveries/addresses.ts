import { type ChannelName, type ChannelsConfig, routeFor } from '../channels/config.js';
import { own } from '../own.js';

/** Where a recipient is reached on a channel, or why they cannot be (so the delivery fails visibly). */
export type Address = { ok: true; address: string } | { ok: false; error: string };

/** Resolves recipients to channel addresses from the channels file. */
export class AddressBook {
  constructor(private readonly config: ChannelsConfig) {}

  channelsFor(policy: string | null): { channels: ChannelName[]; fallback: ChannelName } {
    const route = routeFor(this.config, policy);
    // `messages` always holds every message, so it is never a separate "channel choice" of a route.
    return { channels: route.channels.filter((c) => c !== 'messages'), fallback: route.fallback };
  }

  resolve(channel: ChannelName, recipient: string): Address {
    if (channel === 'messages') return { ok: true, address: recipient };
    // The webhook receives every message, whoever it is for (roles included): the receiving system routes it.
    if (channel === 'webhook') {
      const url = this.config.webhooks.outbound?.url;
      return url ? { ok: true, address: url } : { ok: false, error: 'no outbound webhook configured' };
    }
    const address = own(this.config.people, recipient)?.[channel];
    return address ? { ok: true, address } : { ok: false, error: `no ${channel} address for ${recipient}` };
  }
}
