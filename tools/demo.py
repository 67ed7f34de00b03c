"""`./dev demo`: show what Portineria can do today, and nothing it cannot yet."""


def main():
    print("Portineria demo")
    print("The fleet server and the emulated hubs are not built yet; nothing to run.")


if __name__ == "__main__":
    main()
