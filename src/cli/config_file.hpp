#pragma once
// Config files: TOML files whose keys set defaults for the long options of a CLI11 app,
// read after the command line so that flags given there win (issue 3, "Config file").
//
//   # /etc/netscope/config.toml, then ~/.config/netscope/config.toml (later wins)
//   refresh = 500                    # --refresh 500
//   interface = ["eth0", "eth1"]     # -i eth0 -i eth1
//   no-resolve = true                # a flag; false leaves it off
//   [snapshot]                       # options of the `snapshot` subcommand
//   duration = 30
//
// Rules:
// - A key is a long option name without its dashes. A table names a subcommand and holds
//   that subcommand's options; tables nest like subcommands do.
// - A top-level key also applies to the option of the same name of the subcommand being
//   run, since netscope declares its global options on every subcommand as well
//   (ARCHITECTURE.md "Command line"); a key in the subcommand's table overrides it.
// - An option given on the command line, under any of its long names and at any level
//   of the subcommand chain, is left alone: its config value is ignored. For a vector
//   option the command line replaces the config list; the two are not merged.
// - An option that `excludes()` one given on the command line is skipped too (the
//   command line wins); two config entries that exclude each other are an error.
// - A later file replaces an earlier file's value for the same option.
// - Errors name the file and line: an unknown key or table, a value of the wrong type, a
//   value an option's conversion or validator rejects, and TOML syntax errors.
// - Keys of a subcommand that is not being run are checked for existence only; their
//   values are converted when that subcommand runs.
// - Values are applied after CLI11 has parsed the command line, so a `->required()`
//   option cannot be satisfied from a config file, and `needs()` is not re-checked.

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace netscope::cli {

// A bad config file. what() starts with "PATH:LINE: " whenever a line is known.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A config file that was read and applied.
struct ConfigSource {
  std::string path;
};

// The system file, then the user's: /etc/netscope/config.toml and
// $XDG_CONFIG_HOME/netscope/config.toml, where XDG_CONFIG_HOME defaults to ~/.config
// (XDG Base Directory spec: a relative XDG_CONFIG_HOME is invalid and ignored).
std::vector<std::string> default_config_paths();
// The same with the environment passed in (nullptr = unset), for tests.
std::vector<std::string> default_config_paths(const char* xdg_config_home, const char* home);

// Applies the files in order to an app whose parse() has already run. A missing file is
// skipped; an unreadable one (permissions, a directory) is an error. Throws ConfigError.
// Returns the files that were read.
std::vector<ConfigSource> apply_config_files(CLI::App& app, const std::vector<std::string>& paths);

}  // namespace netscope::cli
