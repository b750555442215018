// vitc: command-line entry point (subcommands are added by the apps layer).
#include <cstdio>
int main() { std::puts("vitc: being assembled"); return 1; }
