// ConnTable (output/event_db_conn_table.hpp): the event log writer's flat table, checked
// against std::unordered_map under random inserts, lookups and erases, including keys
// whose hashes collide on their home slot (long probe runs that backward-shift deletion
// must keep reachable).

#include "output/event_db_conn_table.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <unordered_map>

#include "output/event_db_schema.hpp"
#include "output/event_db_writer.hpp"
#include "snapshot_builder.hpp"

namespace netscope::output {
namespace {

struct Key {
  std::uint64_t id = 0;
  bool operator==(const Key&) const = default;
};

// Few distinct home slots: every key with the same id % 7 probes from the same slot.
std::uint64_t crowded_hash(const Key& k) {
  return (k.id % 7) | (k.id << 32);
}

TEST(ConnTable, AgreesWithUnorderedMapUnderRandomInsertsAndErases) {
  for (const bool crowded : {false, true}) {
    ConnTable<Key, std::uint64_t> table(4);
    std::unordered_map<std::uint64_t, std::uint64_t> model;
    std::mt19937_64 rng(crowded ? 7 : 1);
    const auto hash = [&](const Key& k) {
      return crowded ? crowded_hash(k) : k.id * 0x9E3779B97F4A7C15ull;
    };
    for (int step = 0; step < 20'000; ++step) {
      const Key k{rng() % 600};
      const std::uint64_t h = hash(k);
      switch (rng() % 3) {
        case 0:
          if (model.count(k.id) == 0) {
            table.insert(k, h, k.id * 10);
            model[k.id] = k.id * 10;
          }
          break;
        case 1:
          table.erase(k, h);
          model.erase(k.id);
          break;
        default:
          table.assign(k, h, step);
          model[k.id] = static_cast<std::uint64_t>(step);
      }
      ASSERT_EQ(table.size(), model.size());
    }
    for (std::uint64_t id = 0; id < 600; ++id) {
      const auto* e = table.find(Key{id}, hash(Key{id}));
      const auto it = model.find(id);
      ASSERT_EQ(e != nullptr, it != model.end()) << "id " << id << " crowded " << crowded;
      if (e != nullptr) {
        EXPECT_EQ(e->value, it->second);
      }
    }
  }
}

TEST(ConnTable, SweepingWithEraseAtVisitsEveryEntryOnce) {
  ConnTable<Key, int> table;
  for (std::uint64_t id = 0; id < 1000; ++id) table.insert(Key{id}, crowded_hash(Key{id}), 0);
  // Remove the odd ids the way the writer sweeps: erase_at(i) moves the last entry to i.
  auto& entries = table.entries();
  for (std::size_t i = 0; i < entries.size();) {
    if (entries[i].key.id % 2 == 1) {
      table.erase_at(i);
    } else {
      ++i;
    }
  }
  EXPECT_EQ(table.size(), 500u);
  for (std::uint64_t id = 0; id < 1000; ++id) {
    EXPECT_EQ(table.find(Key{id}, crowded_hash(Key{id})) != nullptr, id % 2 == 0) << id;
  }
}

std::int64_t count(sqlite::Database& db, const char* sql) {
  sqlite::Statement st = db.prepare(sql);
  return st.step() ? st.column_int(0) : -1;
}

// A rolled-back batch (a full disk) must leave the writer's memory as it was: the
// connections it inserted are inserted again, the one it closed is closed again.
TEST(EventWriter, RollbackRestoresTheWritersMemory) {
  char tmpl[] = "/tmp/netscope_event_writer_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    EventDbOptions o;
    o.path = dir + "/events.db";
    sqlite::Database db = open_event_db(o.path, "test");
    EventWriter w(db, o);
    const std::int64_t t0 = testing::kTime.ns;
    auto snap = [&](std::uint64_t tick, int conns, bool close_first) {
      auto s = std::make_shared<monitor::Snapshot>();
      s->tick = tick;
      s->time = core::Timestamp{t0 + static_cast<std::int64_t>(tick) * 1'000'000'000};
      for (int i = 0; i < conns; ++i) {
        auto c = testing::tcp_connection("93.184.216.34", static_cast<std::uint16_t>(40000 + i),
                                         443, 0, 0);
        if (i == 0 && close_first) {
          c.closed = true;
          c.close_reason = "closed";
        }
        s->connections.push_back(c);
      }
      return s;
    };
    w.begin();
    w.write(snap(1, 3, false));
    w.commit();
    ASSERT_EQ(count(db, "SELECT count(*) FROM connections"), 3);

    // Tick 2 (two new connections, the first one closes) is rolled back.
    w.begin();
    w.write(snap(2, 5, true));
    w.rollback();
    ASSERT_EQ(count(db, "SELECT count(*) FROM connections"), 3);

    // Written again: the two new rows appear once, the close is written.
    w.begin();
    w.write(snap(2, 5, true));
    w.commit();
    EXPECT_EQ(count(db, "SELECT count(*) FROM connections"), 5);
    EXPECT_EQ(count(db, "SELECT count(*) FROM connections WHERE close_reason = 'closed'"), 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace netscope::output
