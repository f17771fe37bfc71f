/**
 * Solves A·x = b for a symmetric positive-definite A (row-major, size × size) by Cholesky
 * factorisation. Overwrites `matrix` with the factor and `rhs` with the solution: the caller
 * owns both as scratch buffers, so repeated solves allocate nothing.
 */
export function choleskySolveInPlace(matrix: Float64Array, rhs: Float64Array, size: number): void {
  factorise(matrix, size);
  // L·y = b, then Lᵀ·x = y.
  for (let i = 0; i < size; i++) {
    let sum = rhs[i];
    for (let k = 0; k < i; k++) sum -= matrix[i * size + k] * rhs[k];
    rhs[i] = sum / matrix[i * size + i];
  }
  for (let i = size - 1; i >= 0; i--) {
    let sum = rhs[i];
    for (let k = i + 1; k < size; k++) sum -= matrix[k * size + i] * rhs[k];
    rhs[i] = sum / matrix[i * size + i];
  }
}

/** Lower-triangular L with A = L·Lᵀ, written over A's lower triangle. */
function factorise(matrix: Float64Array, size: number): void {
  for (let j = 0; j < size; j++) {
    let diagonal = matrix[j * size + j];
    for (let k = 0; k < j; k++) diagonal -= matrix[j * size + k] ** 2;
    if (!(diagonal > 0)) throw new Error('choleskySolveInPlace: matrix is not positive definite');
    const pivot = Math.sqrt(diagonal);
    matrix[j * size + j] = pivot;
    for (let i = j + 1; i < size; i++) {
      let sum = matrix[i * size + j];
      for (let k = 0; k < j; k++) sum -= matrix[i * size + k] * matrix[j * size + k];
      matrix[i * size + j] = sum / pivot;
    }
  }
}
