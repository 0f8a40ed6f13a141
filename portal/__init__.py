"""The score portal: managers, employees and HR sign in with DingTalk, list the scores of their
scope and trace any one of them to the source records it came from. It reads the stores through
the same code as the CLI and computes nothing of its own."""
