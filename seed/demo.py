def load_demo() -> str:
    return ""
