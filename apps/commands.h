// The registry of vitc's subcommands: main registers every entry of command_table().
#pragma once

#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

namespace vitc::app {

// Set by a subcommand's callback to what main runs after parsing.
using Runner = std::function<int()>;

// Registers one subcommand: its flags, its subcommands and the callback that sets `run`.
using AddCommand = void (*)(CLI::App& app, Runner& run);

const std::vector<AddCommand>& command_table();

}  // namespace vitc::app
