// One class per failure kind so callers (the dpm CLI, the product) can tell a bad parameter from a bad model
// file or bad data without parsing messages.
export class TrainerError extends Error {
  override name = 'TrainerError';
}

/** A parameter is unknown, malformed or out of range. */
export class ParameterError extends TrainerError {
  override name = 'ParameterError';
}

/** A model text file cannot be read: truncated, another format version, or inconsistent. */
export class ModelFormatError extends TrainerError {
  override name = 'ModelFormatError';
}

/** Training or prediction data are unusable: empty, NaN/inf labels, wrong feature count. */
export class DataError extends TrainerError {
  override name = 'DataError';
}
