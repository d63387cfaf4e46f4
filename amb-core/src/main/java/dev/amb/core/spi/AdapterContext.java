package dev.amb.core.spi;

import dev.amb.core.BusCounters;

/**
 * What the bus offers an adapter when it starts.
 *
 * @param counters the bus's counters, for the outcomes only the adapter sees (throttled,
 * rejected, dropped)
 */
public record AdapterContext(BusCounters counters) {

}
