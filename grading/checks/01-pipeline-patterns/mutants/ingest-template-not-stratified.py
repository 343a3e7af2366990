# exercise: ingest-template
# why: splits without stratify=, so class proportions differ between train and test
def load_split(config: DataConfig) -> Split:
    """Ingest a bundled data set and split it, stratified, as the config says."""
    try:
        loader = DATASETS[config.dataset]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise ConfigError(f"unknown dataset {config.dataset!r}; known datasets: {known}") from None
    data = loader()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=config.test_size, random_state=config.seed,
    )
    return Split(
        columns=[str(name) for name in data.feature_names],
        X_train=X_train.tolist(), y_train=y_train.tolist(),
        X_test=X_test.tolist(), y_test=y_test.tolist(),
    )
