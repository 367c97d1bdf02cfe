"""The training core: config, data, model, engine, checkpoint, device facts. Needs only torch and
torchvision (a test checks), so it runs wherever they do: a GPU box, the CLI, a Ray worker."""
