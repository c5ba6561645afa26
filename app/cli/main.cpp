#include <iostream>
int main() {
  std::cout << "linscope-cli: under construction\n";
  return 0;
}
