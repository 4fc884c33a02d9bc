"""Stand-ins for the systems Haoban talks to: the bank, the source registries, the fund centre, the phone.

Production modules never import this package (tests/architecture/test_simulators.py);
only the sandbox slice and the composition root do, in sandbox mode.
"""
