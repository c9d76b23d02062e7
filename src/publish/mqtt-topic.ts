/** MQTT topic filter matching (MQTT 5.0 section 4.7) for control handlers. */

/**
 * True when `topic` matches `filter`, where `+` matches one level and a final
 * `#` matches the rest (including none). Topics starting with `$` match only
 * filters that name the `$` level explicitly (section 4.7.2).
 */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return i === filterLevels.length - 1;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
