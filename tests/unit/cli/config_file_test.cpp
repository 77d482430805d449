#include "cli/config_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using netscope::cli::apply_config_files;
using netscope::cli::ConfigError;
using netscope::cli::default_config_paths;
namespace fs = std::filesystem;

namespace {

// A scratch directory that removes itself.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "netscope-config-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = path / name;
    std::ofstream(p) << text;
    return p.string();
  }
};

// A small app shaped like netscope's: global options declared on the app and again on
// the subcommand, bound to the same variables, plus a subcommand-only option.
struct TestApp {
  CLI::App app{"test", "netscope"};
  CLI::App* snapshot = nullptr;
  CLI::App* analyze = nullptr;
  int refresh = 1000;
  double window = 5;
  std::string log_file;
  std::vector<std::string> interfaces;
  bool no_resolve = false;
  bool raw = false;
  bool json_lines = false;
  int duration = 0;
  int analyze_top = 20;

  TestApp() {
    app.set_version_flag("--version", "netscope 0");
    const auto add_common = [this](CLI::App& where) {
      where.add_option("--refresh", refresh)->check(CLI::Range(10, 60000));
      where.add_option("--window", window);
      where.add_option("--log-file", log_file);
      where.add_option("-i,--interface", interfaces);
      where.add_flag("-n,--no-resolve", no_resolve);
    };
    add_common(app);
    CLI::Option* r = app.add_flag("--raw", raw);
    CLI::Option* j = app.add_flag("--json-lines", json_lines);
    r->excludes(j);
    snapshot = app.add_subcommand("snapshot");
    add_common(*snapshot);
    snapshot->add_option("--duration", duration)->check(CLI::PositiveNumber);
    analyze = app.add_subcommand("analyze");
    analyze->add_option("--top", analyze_top);
  }

  void parse(std::vector<std::string> args) {
    args.insert(args.begin(), "netscope");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    app.parse(static_cast<int>(argv.size()), argv.data());
  }
};

// The ConfigError message for applying `files` after parsing `args`; "" when none.
std::string error_of(TestApp& t, const std::vector<std::string>& files,
                     const std::vector<std::string>& args = {}) {
  t.parse(args);
  try {
    apply_config_files(t.app, files);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConfigPaths, system_file_then_xdg_config_home) {
  EXPECT_EQ(default_config_paths("/xdg", "/home/u"),
            (std::vector<std::string>{"/etc/netscope/config.toml", "/xdg/netscope/config.toml"}));
}

TEST(ConfigPaths, home_dot_config_when_xdg_is_unset_or_relative) {
  const std::vector<std::string> want{"/etc/netscope/config.toml",
                                      "/home/u/.config/netscope/config.toml"};
  EXPECT_EQ(default_config_paths(nullptr, "/home/u"), want);
  EXPECT_EQ(default_config_paths("relative/dir", "/home/u"), want);
  EXPECT_EQ(default_config_paths("", "/home/u"), want);
}

TEST(ConfigPaths, only_the_system_file_without_a_home) {
  EXPECT_EQ(default_config_paths(nullptr, nullptr),
            (std::vector<std::string>{"/etc/netscope/config.toml"}));
}

TEST(ConfigPaths, the_environment_is_read) {
  const char* old = std::getenv("XDG_CONFIG_HOME");
  const std::string saved = old != nullptr ? old : "";
  setenv("XDG_CONFIG_HOME", "/from-env", 1);
  const auto paths = default_config_paths();
  if (old != nullptr) {
    setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
  } else {
    unsetenv("XDG_CONFIG_HOME");
  }
  ASSERT_EQ(paths.size(), 2U);
  EXPECT_EQ(paths[1], "/from-env/netscope/config.toml");
}

TEST(ConfigFile, sets_every_kind_of_option) {
  TempDir d;
  const std::string f = d.write("c.toml",
                                "# comment\n"
                                "refresh = 500\n"
                                "window = 2.5\n"
                                "log-file = \"/tmp/x.log\"\n"
                                "interface = [\"eth0\", \"eth1\"]\n"
                                "no-resolve = true\n");
  TestApp t;
  t.parse({});
  const auto read = apply_config_files(t.app, {f});
  ASSERT_EQ(read.size(), 1U);
  EXPECT_EQ(read[0].path, f);
  EXPECT_EQ(t.refresh, 500);
  EXPECT_DOUBLE_EQ(t.window, 2.5);
  EXPECT_EQ(t.log_file, "/tmp/x.log");
  EXPECT_EQ(t.interfaces, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_TRUE(t.no_resolve);
  // count() reflects the config value, as code checking "was it set" expects.
  EXPECT_EQ(t.app.count("--refresh"), 1U);
}

TEST(ConfigFile, a_false_flag_stays_off) {
  TempDir d;
  const std::string f = d.write("c.toml", "no-resolve = false\n");
  TestApp t;
  t.parse({});
  apply_config_files(t.app, {f});
  EXPECT_FALSE(t.no_resolve);
}

TEST(ConfigFile, command_line_wins_for_scalars_and_flags) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 500\nno-resolve = false\nwindow = 9\n");
  TestApp t;
  t.parse({"--refresh", "200", "-n"});
  apply_config_files(t.app, {f});
  EXPECT_EQ(t.refresh, 200);
  EXPECT_TRUE(t.no_resolve);
  EXPECT_DOUBLE_EQ(t.window, 9);  // not given on the command line: the file sets it
}

TEST(ConfigFile, command_line_vector_replaces_the_config_list) {
  TempDir d;
  const std::string f = d.write("c.toml", "interface = [\"eth0\", \"eth1\"]\n");
  TestApp t;
  t.parse({"-i", "wlan0"});
  apply_config_files(t.app, {f});
  EXPECT_EQ(t.interfaces, (std::vector<std::string>{"wlan0"}));
}

TEST(ConfigFile, later_file_wins_and_missing_files_are_skipped) {
  TempDir d;
  const std::string sys = d.write("sys.toml", "refresh = 500\ninterface = [\"a\", \"b\"]\n");
  const std::string user = d.write("user.toml", "refresh = 250\ninterface = [\"c\"]\n");
  const std::string missing = (d.path / "nope" / "config.toml").string();
  TestApp t;
  t.parse({});
  const auto read = apply_config_files(t.app, {sys, missing, user});
  EXPECT_EQ(t.refresh, 250);
  EXPECT_EQ(t.interfaces, (std::vector<std::string>{"c"}));  // replaced, not appended
  ASSERT_EQ(read.size(), 2U);
  EXPECT_EQ(read[1].path, user);
}

TEST(ConfigFile, unknown_key_names_file_and_line) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 500\n\n# typo below\nrefreshh = 5\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":4: unknown option \"refreshh\"");
}

TEST(ConfigFile, subcommand_key_at_top_level_gets_a_hint) {
  TempDir d;
  const std::string f = d.write("c.toml", "duration = 30\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}),
            f + ":1: unknown option \"duration\" (it is an option of [snapshot])");
}

TEST(ConfigFile, unconvertible_value_names_file_line_and_option) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 100\nwindow = \"abc\"\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":2: --window: Could not convert: --window = abc");
}

TEST(ConfigFile, validator_failure_names_file_and_line) {
  TempDir d;
  const std::string f = d.write("c.toml", "\n\nrefresh = -1\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":3: --refresh: Value -1 not in range 10 to 60000");
}

TEST(ConfigFile, float_for_an_integer_option_is_an_error) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 1.5\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}).rfind(f + ":1: --refresh: ", 0), 0U);
}

TEST(ConfigFile, multi_line_array_error_points_at_its_key) {
  TempDir d;
  const std::string f =
      d.write("c.toml", "refresh = 100\ninterface = [\n  \"a\",\n  [\"b\"],\n]\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":2: nested arrays are not supported");
}

TEST(ConfigFile, dates_are_not_option_values) {
  TempDir d;
  const std::string f = d.write("c.toml", "log-file = 2024-01-01\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":1: dates and times are not supported as option values");
}

TEST(ConfigFile, a_flag_takes_one_value) {
  TempDir d;
  const std::string f = d.write("c.toml", "no-resolve = [true, false]\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":1: --no-resolve is a flag and takes one value");
}

TEST(ConfigFile, syntax_error_names_file_and_line) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 500\nwindow = = 2\n");
  TestApp t;
  const std::string err = error_of(t, {f});
  EXPECT_EQ(err.rfind(f + ":2: ", 0), 0U) << err;
}

TEST(ConfigFile, duplicate_key_is_a_syntax_error_at_the_second_line) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 500\nrefresh = 600\n");
  TestApp t;
  const std::string err = error_of(t, {f});
  EXPECT_EQ(err.rfind(f + ":2: ", 0), 0U) << err;
}

TEST(ConfigFile, unreadable_file_is_an_error) {
  TempDir d;
  fs::create_directories(d.path / "dir.toml");
  const std::string f = (d.path / "dir.toml").string();
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ": cannot read: is a directory");
}

TEST(ConfigFile, version_and_help_cannot_be_configured) {
  TempDir d;
  const std::string f = d.write("c.toml", "version = true\n");
  const std::string g = d.write("g.toml", "help = true\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":1: --version cannot be set in a config file");
  TestApp u;
  EXPECT_EQ(error_of(u, {g}), g + ":1: --help cannot be set in a config file");
}

TEST(ConfigFile, subcommand_table_applies_when_that_subcommand_runs) {
  TempDir d;
  const std::string f = d.write("c.toml",
                                "refresh = 500\n"
                                "[snapshot]\n"
                                "duration = 30\n"
                                "refresh = 300\n"
                                "[analyze]\n"
                                "top = 7\n");
  TestApp t;
  t.parse({"snapshot"});
  apply_config_files(t.app, {f});
  EXPECT_EQ(t.duration, 30);
  EXPECT_EQ(t.refresh, 300);     // the subcommand's table overrides the top level
  EXPECT_EQ(t.analyze_top, 20);  // analyze is not running: its table is not applied
}

TEST(ConfigFile, top_level_key_reaches_the_running_subcommand) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 500\n");
  TestApp t;
  t.parse({"snapshot"});
  apply_config_files(t.app, {f});
  EXPECT_EQ(t.refresh, 500);
  EXPECT_EQ(t.snapshot->count("--refresh"), 1U);
}

TEST(ConfigFile, option_given_after_the_subcommand_beats_a_top_level_key) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 500\ninterface = [\"x\"]\n");
  TestApp t;
  // The shared variables are set by the subcommand's options here; the app's own
  // --refresh has count 0 but must not overwrite them.
  t.parse({"snapshot", "--refresh", "200", "-i", "eth9"});
  apply_config_files(t.app, {f});
  EXPECT_EQ(t.refresh, 200);
  EXPECT_EQ(t.interfaces, (std::vector<std::string>{"eth9"}));
}

TEST(ConfigFile, keys_of_an_idle_subcommand_are_still_checked) {
  TempDir d;
  const std::string f = d.write("c.toml", "[analyze]\ntop = 7\ntopp = 8\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":3: unknown option \"topp\"");
}

TEST(ConfigFile, unknown_section_is_an_error) {
  TempDir d;
  const std::string f = d.write("c.toml", "refresh = 100\n\n[snapshto]\nduration = 1\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":3: unknown section [snapshto]: no such subcommand");
}

TEST(ConfigFile, subcommand_value_errors_name_their_line) {
  TempDir d;
  const std::string f = d.write("c.toml", "[snapshot]\nduration = -4\n");
  TestApp t;
  const std::string err = error_of(t, {f}, {"snapshot"});
  EXPECT_EQ(err.rfind(f + ":2: --duration: ", 0), 0U) << err;
}

TEST(ConfigFile, option_excluded_by_the_command_line_is_skipped) {
  TempDir d;
  const std::string f = d.write("c.toml", "raw = true\n");
  TestApp t;
  t.parse({"--json-lines"});
  apply_config_files(t.app, {f});
  EXPECT_TRUE(t.json_lines);
  EXPECT_FALSE(t.raw);
}

TEST(ConfigFile, options_that_exclude_each_other_in_config_are_an_error) {
  TempDir d;
  const std::string f = d.write("c.toml", "json-lines = true\nraw = true\n");
  TestApp t;
  EXPECT_EQ(error_of(t, {f}), f + ":2: --raw excludes --json-lines, which " + f + ":1 sets");
}
