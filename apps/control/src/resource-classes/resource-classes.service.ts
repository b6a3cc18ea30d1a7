import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isValidResourceClassName, parseAmount, ResourceAmounts, ResourceUnit } from '@dcm/domain';
import { ResourceClassEntity, UnitOfWork } from '@dcm/persistence';
import { Repository } from 'typeorm';
import type { Actor } from '../common/actor';
import { AuditLog } from '../audit/audit-log';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';

const MAX_CLASSES_PER_REQUEST = 64;

/** The resource classes (vcpu, memory, storage and operators' custom_* classes), and parsing of amounts in their units. */
@Injectable()
export class ResourceClassesService implements OnModuleInit {
  private units = new Map<string, ResourceUnit>();

  constructor(
    @InjectRepository(ResourceClassEntity) private readonly repository: Repository<ResourceClassEntity>,
    private readonly clock: Clock,
    private readonly unitOfWork: UnitOfWork,
    private readonly auditLog: AuditLog,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  list(): Promise<ResourceClassEntity[]> {
    return this.repository.find({ order: { name: 'ASC' } });
  }

  async declare(name: string, unit: ResourceUnit, description: string | null, actor: Actor): Promise<ResourceClassEntity> {
    if (!isValidResourceClassName(name) || !name.startsWith('custom_')) {
      throw Problems.validation(`resource class ${JSON.stringify(name)} is not a valid custom class name (custom_<name>, lower case)`);
    }
    const saved = await this.unitOfWork.run(async (tx) => {
      const existing = await tx.findOneBy(ResourceClassEntity, { name });
      if (existing && existing.unit !== unit) {
        throw Problems.conflict(`resource class ${name} already exists with unit ${existing.unit}; a class's unit cannot change`);
      }
      if (existing && existing.description === description) return existing;
      const before = existing ? { unit: existing.unit, description: existing.description } : null;
      const entity = existing ?? Object.assign(new ResourceClassEntity(), { name, unit, createdAt: this.clock.now() });
      entity.description = description;
      await this.auditLog.record(tx, {
        actor,
        action: 'resource-class.declare',
        subjectType: 'resource-class',
        subject: name,
        before,
        after: { unit, description },
      });
      return tx.save(entity);
    });
    this.units.set(name, unit);
    return saved;
  }

  unitOf(name: string): ResourceUnit | undefined {
    return this.units.get(name);
  }

  /** Whether the class exists, looking at the database again once in case another replica declared it. */
  async exists(name: string): Promise<boolean> {
    if (this.units.has(name)) return true;
    await this.reload();
    return this.units.has(name);
  }

  /**
   * Parses a map of resource class to amount (`{"vcpu": 8, "memory": "32GiB"}`) into integers in each class's unit.
   * Refuses with one ValidationFailed listing every bad entry; with `positive`, also every amount of 0.
   */
  async parseAmounts(input: unknown, field: string, options: { allowEmpty?: boolean; positive?: boolean } = {}): Promise<ResourceAmounts> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw Problems.validation(`${field} must be an object mapping resource classes to amounts`);
    }
    const entries = Object.entries(input);
    if (entries.length === 0 && !options.allowEmpty) throw Problems.validation(`${field} must name at least one resource class`);
    if (entries.length > MAX_CLASSES_PER_REQUEST) throw Problems.validation(`${field} names more than ${MAX_CLASSES_PER_REQUEST} resource classes`);

    const amounts: ResourceAmounts = {};
    const errors: string[] = [];
    for (const [name, raw] of entries) {
      const unit = (await this.exists(name)) ? this.units.get(name) : undefined;
      if (!unit) {
        errors.push(`${field}.${name.slice(0, 64)}: unknown resource class`);
        continue;
      }
      const parsed = parseAmount(raw, unit);
      if (!parsed.ok) errors.push(`${field}.${name}: ${parsed.reason}`);
      else if (options.positive && parsed.value === 0) errors.push(`${field}.${name}: must be more than 0`);
      else amounts[name] = parsed.value;
    }
    if (errors.length > 0) throw Problems.validation(errors.join('; '), errors);
    return amounts;
  }

  private async reload(): Promise<void> {
    const classes = await this.repository.find();
    this.units = new Map(classes.map((resourceClass) => [resourceClass.name, resourceClass.unit]));
  }
}
