import type { SimFault } from './types.js';

const NONE: SimFault = { kind: 'none' };

/** Which fault applies to which model: a server-wide fault, overridden per model. */
export class FaultBoard {
  private global: SimFault = NONE;
  private readonly perModel = new Map<string, SimFault>();

  set(fault: SimFault, model?: string): void {
    if (fault.kind === 'down' || model === undefined) {
      this.global = fault;
      this.perModel.clear();
    } else {
      this.perModel.set(model, fault);
    }
  }

  for(model: string): SimFault {
    return this.perModel.get(model) ?? this.global;
  }

  get serverWide(): SimFault {
    return this.global;
  }

  get isDown(): boolean {
    return this.global.kind === 'down';
  }

  snapshot(): { global: SimFault; models: Record<string, SimFault> } {
    return { global: this.global, models: Object.fromEntries(this.perModel) };
  }
}
