#pragma once
// ConnTable: the event log writer's memory of the connections it has written, keyed by
// the connection's identity (5-tuple and first-seen time). The writer looks up every
// connection of every snapshot here, so the table is flat: the entries sit in one dense
// vector (the sweep for connections that left a snapshot walks it in order), and an
// open-addressing index (linear probing, load at most 1/2, backward-shift deletion) maps
// a key's 64-bit hash to its entry. No allocation per lookup, insert or erase once the
// vectors have grown to the working set.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace netscope::output {

template <typename Key, typename Value>
class ConnTable {
 public:
  struct Entry {
    Key key;
    std::uint64_t hash;
    Value value;
  };

  explicit ConnTable(std::size_t expected = 8192) { rehash(capacity_for(expected)); }

  // The entry of `key` (whose hash is `hash`), or nullptr.
  Entry* find(const Key& key, std::uint64_t hash) {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot s = slots_[i];
      if (s.index == 0) return nullptr;
      if (s.tag == static_cast<std::uint32_t>(hash)) {
        Entry& e = entries_[s.index - 1];
        if (e.hash == hash && e.key == key) return &e;
      }
    }
  }

  // Adds `key`, which must be absent. References to entries are invalidated.
  Entry& insert(const Key& key, std::uint64_t hash, const Value& value) {
    if ((entries_.size() + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    entries_.push_back(Entry{key, hash, value});
    place(hash, static_cast<std::uint32_t>(entries_.size()));
    return entries_.back();
  }

  // Inserts or overwrites.
  void assign(const Key& key, std::uint64_t hash, const Value& value) {
    if (Entry* e = find(key, hash)) {
      e->value = value;
    } else {
      insert(key, hash, value);
    }
  }

  // Removes the entry at `pos` of entries(); the last entry moves into its place.
  void erase_at(std::size_t pos) {
    unplace(slot_of(pos));
    const std::size_t last = entries_.size() - 1;
    if (pos != last) {
      slots_[slot_of(last)].index = static_cast<std::uint32_t>(pos + 1);
      entries_[pos] = std::move(entries_[last]);
    }
    entries_.pop_back();
  }

  void erase(const Key& key, std::uint64_t hash) {
    if (Entry* e = find(key, hash)) erase_at(static_cast<std::size_t>(e - entries_.data()));
  }

  std::vector<Entry>& entries() { return entries_; }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Slot {
    std::uint32_t index = 0;  // 1-based position in entries_; 0 = empty
    std::uint32_t tag = 0;    // the low 32 bits of the key's hash (its home slot)
  };

  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c < n * 2) c *= 2;
    return c;
  }

  void place(std::uint64_t hash, std::uint32_t index) {
    std::size_t i = hash & mask_;
    while (slots_[i].index != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{index, static_cast<std::uint32_t>(hash)};
  }

  // The slot that points at entries_[pos].
  std::size_t slot_of(std::size_t pos) const {
    const auto want = static_cast<std::uint32_t>(pos + 1);
    for (std::size_t i = entries_[pos].hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].index == want) return i;
    }
  }

  // Empties slot `hole` and shifts back the entries of its probe run that may move up
  // (Knuth 6.4, algorithm R), so that no lookup stops early at the hole.
  void unplace(std::size_t hole) {
    for (std::size_t j = (hole + 1) & mask_; slots_[j].index != 0; j = (j + 1) & mask_) {
      const std::size_t home = slots_[j].tag & mask_;
      // Slot j may fill the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
  }

  void rehash(std::size_t capacity) {
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    entries_.reserve(capacity / 2);
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      place(entries_[k].hash, static_cast<std::uint32_t>(k + 1));
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace netscope::output
