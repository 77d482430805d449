#include <cstdio>

int main() {
  std::puts("netscope " NETSCOPE_VERSION);
  return 0;
}
