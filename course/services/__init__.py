"""The server launcher behind ``course services``: five real servers, from compose or run natively."""
