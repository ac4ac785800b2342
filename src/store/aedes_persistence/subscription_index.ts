/**
 * An in-memory trie of persistent (clean=false) QoS>0 subscriptions, so the
 * broker can find who should get a queued copy of a PUBLISH without reading
 * SQLite on every message. SQLite stays the durable copy; the index is
 * rebuilt from it at setup and updated after each committed write.
 */

/** One persistent subscription as `subscriptionsByTopic` returns it. */
export interface IndexedSubscription {
  clientId: string;
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
}

interface TrieNode {
  /** Next filter level -> node; '+' and '#' are ordinary keys here. */
  children: Map<string, TrieNode>;
  /** Subscriptions whose filter ends at this node, one per client. */
  subscriptions: Map<string, IndexedSubscription>;
}

function newNode(): TrieNode {
  return { children: new Map(), subscriptions: new Map() };
}

export class SubscriptionIndex {
  #root = newNode();

  /**
   * Adds or replaces the client's subscription to `sub.topic`.
   *
   * @example index.add({ clientId: 'dev-1', topic: 'home/+/cmd', qos: 1 });
   */
  add(sub: IndexedSubscription): void {
    let node = this.#root;
    for (const level of sub.topic.split('/')) {
      let child = node.children.get(level);
      if (!child) {
        child = newNode();
        node.children.set(level, child);
      }
      node = child;
    }
    node.subscriptions.set(sub.clientId, sub);
  }

  /**
   * Removes the client's subscription to `filter`, if any, and prunes nodes
   * left empty so unsubscribed filters do not leak memory.
   *
   * @example index.remove('dev-1', 'home/+/cmd');
   */
  remove(clientId: string, filter: string): void {
    const path: { parent: TrieNode; level: string; node: TrieNode }[] = [];
    let node = this.#root;
    for (const level of filter.split('/')) {
      const child = node.children.get(level);
      if (!child) return;
      path.push({ parent: node, level, node: child });
      node = child;
    }
    node.subscriptions.delete(clientId);
    for (let i = path.length - 1; i >= 0; i--) {
      const step = path[i]!;
      if (step.node.subscriptions.size > 0 || step.node.children.size > 0) break;
      step.parent.children.delete(step.level);
    }
  }

  /**
   * Removes every subscription of the clients `matches` picks, whatever
   * SQLite still holds (another process may have deleted the rows already),
   * and prunes empty nodes. Walks the whole trie: for a deleted principal,
   * not per message.
   *
   * @example index.removeClients((id) => id === 'dev-1');
   */
  removeClients(matches: (clientId: string) => boolean): void {
    prune(this.#root, matches);
  }

  /**
   * Every subscription whose filter matches the topic name, as fresh objects.
   * A client subscribed with two matching filters appears once per filter,
   * as Aedes expects.
   *
   * @example index.match('home/t1/cmd') // [{ clientId: 'dev-1', topic: 'home/+/cmd', qos: 1 }]
   */
  match(topic: string): IndexedSubscription[] {
    const found: IndexedSubscription[] = [];
    const levels = topic.split('/');
    // [MQTT-4.7.2-1] a filter starting with a wildcard never matches a '$' topic.
    const dollar = topic.startsWith('$');
    collect(this.#root, levels, 0, dollar, found);
    return found;
  }
}

function collect(node: TrieNode, levels: string[], depth: number, dollar: boolean, found: IndexedSubscription[]): void {
  const wildcardsAllowed = !(dollar && depth === 0);
  // [MQTT-4.7.1-2] '#' matches this level, everything below it, and the parent: 'a/#' matches 'a'.
  const multi = wildcardsAllowed ? node.children.get('#') : undefined;
  if (multi) addAll(multi, found);
  if (depth === levels.length) {
    addAll(node, found);
    return;
  }
  const exact = node.children.get(levels[depth]!);
  if (exact) collect(exact, levels, depth + 1, dollar, found);
  // [MQTT-4.7.1-3] '+' matches exactly one level, including an empty one.
  const single = wildcardsAllowed ? node.children.get('+') : undefined;
  if (single) collect(single, levels, depth + 1, dollar, found);
}

/** Drops the matching clients' subscriptions below `node`; true when `node` is left empty. */
function prune(node: TrieNode, matches: (clientId: string) => boolean): boolean {
  for (const clientId of node.subscriptions.keys()) if (matches(clientId)) node.subscriptions.delete(clientId);
  for (const [level, child] of node.children) {
    if (prune(child, matches)) node.children.delete(level);
  }
  return node.subscriptions.size === 0 && node.children.size === 0;
}

function addAll(node: TrieNode, found: IndexedSubscription[]): void {
  for (const sub of node.subscriptions.values()) found.push({ ...sub });
}
