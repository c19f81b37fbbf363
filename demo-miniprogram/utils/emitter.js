/** A tiny event bus: on() returns the function that removes the listener. */
class Emitter {
  constructor() {
    this.listeners = {};
  }

  on(event, fn) {
    (this.listeners[event] = this.listeners[event] || []).push(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    const list = this.listeners[event];
    if (!list) return;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }

  emit(event, ...args) {
    const list = (this.listeners[event] || []).slice();
    for (const fn of list) {
      try {
        fn(...args);
      } catch (err) {
        console.error(`[demo] a "${event}" listener threw`, err);
      }
    }
  }
}

module.exports = { Emitter };
